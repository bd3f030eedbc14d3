/*
 * activation: element-wise activations and the exponentials they need, over whole arrays, in
 * float64 and float32.
 *
 * The loops call no libm function: exp and expm1 are evaluated by range reduction
 * (x = n ln2 + r, |r| <= ln2/2, Cody-Waite split of ln2), a Taylor polynomial in Horner form
 * with fma(), and a scale by 2^n built from exponent bits, so that the compiler vectorises
 * them (AVX2/AVX-512 clones are picked at run time). fma() is exactly rounded on every CPU, so
 * the results are the same bits everywhere. Accuracy: within 2 ulp of the correctly rounded
 * value for exp and expm1 on their whole domain, a few ulp for tanh (checked in
 * tests/test_activation.c against libm).
 *
 *   selu(x) = scale * (x if x > 0 else alpha * expm1(x))  scale = 1.0507..., alpha = 1.6732...
 *   tanh(x) = sign(x) * (-m / (m + 2)),  m = expm1(-2|x|)
 *   relu(x) = max(x, 0),  identity(x) = x
 *   gelu(x) = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))   (tanh approximation)
 */
#ifndef ARS_ACTIVATION_H
#define ARS_ACTIVATION_H

#include <stddef.h>

typedef enum ars_activation {
    ARS_ACTIVATION_SELU = 0,
    ARS_ACTIVATION_TANH,
    ARS_ACTIVATION_RELU,
    ARS_ACTIVATION_GELU,
    ARS_ACTIVATION_IDENTITY,
} ars_activation;

/* The config-file name of an activation ("selu", ...). */
const char *ars_activation_name(ars_activation a);

/* out[i] = act(in[i]) for i < n; out may equal in. */
void ars_activation_apply(double *out, const double *in, size_t n, ars_activation act);
void ars_activation_apply_f(float *out, const float *in, size_t n, ars_activation act);

/* Backward of an activation: dz[i] = da[i] * act'(z[i]), given z and a = act(z) (some
 * derivatives are cheapest from a: selu'(z) = a + scale*alpha for z <= 0, tanh' = 1 - a^2).
 * dz may equal da. */
void ars_activation_backward(double *dz, const double *da, const double *z, const double *a,
                             size_t n, ars_activation act);

/* Normalised conditional log-amplitudes of one site for a batch, columns of a (D, B) block:
 * out[i, b] = z[i, b] - max_j z[j, b] - (1/mp) log sum_j exp(mp (z[j, b] - max_j z[j, b])),
 * the NetKet head x - (1/mp) logsumexp(mp x). Row stride of both blocks ld >= B. */
void ars_log_softmax(double *out, const double *z, int D, int B, size_t ld, double mp);
void ars_log_softmax_f(float *out, const float *z, int D, int B, size_t ld, float mp);

/* out[i] = log(in[i]) for positive normal in[i] (the only inputs arsampler gives it). */
void ars_vlog(double *out, const double *in, size_t n);
void ars_vlog_f(float *out, const float *in, size_t n);

/* out[i] = exp(in[i]), out[i] = expm1(in[i]), out[i] = tanh(in[i]); out may equal in. */
void ars_vexp(double *out, const double *in, size_t n);
void ars_vexpm1(double *out, const double *in, size_t n);
void ars_vtanh(double *out, const double *in, size_t n);
void ars_vexp_f(float *out, const float *in, size_t n);
void ars_vexpm1_f(float *out, const float *in, size_t n);
void ars_vtanh_f(float *out, const float *in, size_t n);

#endif
