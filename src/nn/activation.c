/*
 * activation: vectorisable exp, expm1, tanh and the network's activations; see activation.h
 * for the formulas and the accuracy. Every array loop is compiled for AVX-512, AVX2 and
 * baseline x86-64 (target_clones) and the best one is picked when the program starts.
 */
#include "nn/activation.h"

#include "core/ars_common.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* SELU constants (Klambauer et al. 2017), as in jax.nn.selu. */
#define SELU_ALPHA 1.6732632423543772848170429916717
#define SELU_SCALE 1.0507009873554804934193349852946
/* sqrt(2/pi) for the tanh approximation of GELU (jax.nn.gelu, approximate=True). */
#define GELU_C 0.79788456080286535587989211986876

/* ---- float64 ----------------------------------------------------------------------------- */

#define LOG2E 1.44269504088896338700e+00
#define LN2_HI 6.93147180369123816490e-01 /* ln 2 with 32 trailing zero bits: n*LN2_HI exact */
#define LN2_LO 1.90821492927058770002e-10
#define SHIFT 0x1.8p52 /* adding it rounds to an integer held in the low mantissa bits */

static inline int64_t bits_of(double x) {
    int64_t i;
    memcpy(&i, &x, sizeof i);
    return i;
}

static inline double double_of(uint64_t i) {
    double x;
    memcpy(&x, &i, sizeof x);
    return x;
}

/* 2^k for -1022 <= k <= 1023 (unsigned arithmetic: a NaN input gives garbage k, not UB). */
static inline double pow2(int64_t k) {
    return double_of(((uint64_t)k + 1023u) << 52);
}

/* e^r - 1 - r for |r| <= ln2/2: Taylor terms r^2/2! .. r^14/14!, error below 1e-18. */
static inline double expm1_tail(double r) {
    double q = 1.0 / 87178291200.0; /* 1/14! */
    q = fma(q, r, 1.0 / 6227020800.0);
    q = fma(q, r, 1.0 / 479001600.0);
    q = fma(q, r, 1.0 / 39916800.0);
    q = fma(q, r, 1.0 / 3628800.0);
    q = fma(q, r, 1.0 / 362880.0);
    q = fma(q, r, 1.0 / 40320.0);
    q = fma(q, r, 1.0 / 5040.0);
    q = fma(q, r, 1.0 / 720.0);
    q = fma(q, r, 1.0 / 120.0);
    q = fma(q, r, 1.0 / 24.0);
    q = fma(q, r, 1.0 / 6.0);
    q = fma(q, r, 0.5);
    return (r * r) * q;
}

static inline double exp_elem(double x) {
    /* Clamping keeps both scale factors normal; NaN fails both tests and propagates. */
    x = x > 710.0 ? 710.0 : x;
    x = x < -746.0 ? -746.0 : x;
    double t = fma(x, LOG2E, SHIFT);
    double n = t - SHIFT;
    int64_t k = bits_of(t) - bits_of(SHIFT); /* n as an integer, in [-1076, 1024] */
    double r = fma(n, -LN2_HI, x);
    r = fma(n, -LN2_LO, r);
    double p = 1.0 + (r + expm1_tail(r));
    int64_t k1 = k >> 1; /* 2^n in two factors, so that subnormal results round once */
    return (p * pow2(k1)) * pow2(k - k1);
}

/* expm1 for x <= 700 (and NaN); below -40 the result is -1 to double precision. */
static inline double expm1_core(double x) {
    x = x < -40.0 ? -40.0 : x;
    double t = fma(x, LOG2E, SHIFT);
    double n = t - SHIFT;
    int64_t k = bits_of(t) - bits_of(SHIFT); /* in [-58, 1010] */
    double r = fma(n, -LN2_HI, x);
    r = fma(n, -LN2_LO, r);
    double p = r + expm1_tail(r); /* e^r - 1 */
    double s = pow2(k);
    return fma(s, p, s - 1.0); /* e^x - 1 = s (e^r - 1) + (s - 1), exact when k = 0 */
}

static inline double expm1_elem(double x) {
    return x > 700.0 ? exp_elem(x) : expm1_core(x); /* e^700 - 1 rounds to e^700 */
}

static inline double tanh_elem(double x) {
    double m = expm1_core(-2.0 * fabs(x));
    double y = -m / (m + 2.0);
    return x < 0.0 ? -y : y;
}

/* log for positive normal x: x = 2^e m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s),
 * s = (m - 1)/(m + 1), |s| <= 0.1716, series to s^19 (error below 1e-17). */
static inline double log_elem(double x) {
    const uint64_t ix = (uint64_t)bits_of(x);
    int64_t e = (int64_t)(ix >> 52) - 1023;
    double m = double_of((ix & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1, 2) */
    const int big = m > 1.4142135623730951;
    m = big ? 0.5 * m : m;
    e = big ? e + 1 : e;
    const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double q = 1.0 / 19.0;
    q = fma(q, s2, 1.0 / 17.0);
    q = fma(q, s2, 1.0 / 15.0);
    q = fma(q, s2, 1.0 / 13.0);
    q = fma(q, s2, 1.0 / 11.0);
    q = fma(q, s2, 1.0 / 9.0);
    q = fma(q, s2, 1.0 / 7.0);
    q = fma(q, s2, 1.0 / 5.0);
    q = fma(q, s2, 1.0 / 3.0);
    const double de = (double)e;
    const double lm = fma(2.0 * s * s2, q, fma(de, LN2_LO, 2.0 * s)); /* log m + e ln2_lo */
    return fma(de, LN2_HI, lm);
}

static inline double act_elem(double x, ars_activation act) {
    switch (act) {
        case ARS_ACTIVATION_SELU: {
            double neg = SELU_SCALE * SELU_ALPHA * expm1_core(x > 0.0 ? 0.0 : x); /* NaN stays */
            return x > 0.0 ? SELU_SCALE * x : neg;
        }
        case ARS_ACTIVATION_TANH:
            return tanh_elem(x);
        case ARS_ACTIVATION_RELU:
            return x < 0.0 ? 0.0 : x; /* NaN stays NaN, as max(x, 0) in jax */
        case ARS_ACTIVATION_GELU:
            return 0.5 * x * (1.0 + tanh_elem(GELU_C * (x + 0.044715 * x * x * x)));
        case ARS_ACTIVATION_IDENTITY:
            return x;
    }
    return x;
}

/* ---- float32 ----------------------------------------------------------------------------- */

#define LOG2E_F 1.44269502e+00f
#define LN2_HI_F 6.9314575195e-01f /* 9 trailing zero bits */
#define LN2_LO_F 1.4286067653e-06f
#define SHIFT_F 0x1.8p23f

static inline int32_t bits_of_f(float x) {
    int32_t i;
    memcpy(&i, &x, sizeof i);
    return i;
}

static inline float float_of(uint32_t i) {
    float x;
    memcpy(&x, &i, sizeof x);
    return x;
}

static inline float pow2_f(int32_t k) {
    return float_of(((uint32_t)k + 127u) << 23);
}

/* e^r - 1 - r for |r| <= ln2/2: terms up to r^8/8!, error below 1e-9. */
static inline float expm1_tail_f(float r) {
    float q = 1.0f / 40320.0f;
    q = fmaf(q, r, 1.0f / 5040.0f);
    q = fmaf(q, r, 1.0f / 720.0f);
    q = fmaf(q, r, 1.0f / 120.0f);
    q = fmaf(q, r, 1.0f / 24.0f);
    q = fmaf(q, r, 1.0f / 6.0f);
    q = fmaf(q, r, 0.5f);
    return (r * r) * q;
}

static inline float exp_elem_f(float x) {
    x = x > 89.0f ? 89.0f : x;
    x = x < -104.0f ? -104.0f : x;
    float t = fmaf(x, LOG2E_F, SHIFT_F);
    float n = t - SHIFT_F;
    int32_t k = bits_of_f(t) - bits_of_f(SHIFT_F); /* in [-150, 128] */
    float r = fmaf(n, -LN2_HI_F, x);
    r = fmaf(n, -LN2_LO_F, r);
    float p = 1.0f + (r + expm1_tail_f(r));
    int32_t k1 = k / 2;
    return (p * pow2_f(k1)) * pow2_f(k - k1);
}

/* expm1 for x <= 80 (and NaN); below -20 the result is -1 to single precision. */
static inline float expm1_core_f(float x) {
    x = x < -20.0f ? -20.0f : x;
    float t = fmaf(x, LOG2E_F, SHIFT_F);
    float n = t - SHIFT_F;
    int32_t k = bits_of_f(t) - bits_of_f(SHIFT_F); /* in [-29, 116] */
    float r = fmaf(n, -LN2_HI_F, x);
    r = fmaf(n, -LN2_LO_F, r);
    float p = r + expm1_tail_f(r);
    float s = pow2_f(k);
    return fmaf(s, p, s - 1.0f);
}

static inline float expm1_elem_f(float x) {
    return x > 80.0f ? exp_elem_f(x) : expm1_core_f(x);
}

static inline float tanh_elem_f(float x) {
    float m = expm1_core_f(-2.0f * fabsf(x));
    float y = -m / (m + 2.0f);
    return x < 0.0f ? -y : y;
}

static inline float log_elem_f(float x) {
    const uint32_t ix = (uint32_t)bits_of_f(x);
    int32_t e = (int32_t)(ix >> 23) - 127;
    float m = float_of((ix & 0x007fffffu) | 0x3f800000u);
    const int big = m > 1.41421356f;
    m = big ? 0.5f * m : m;
    e = big ? e + 1 : e;
    const float s = (m - 1.0f) / (m + 1.0f), s2 = s * s;
    float q = 1.0f / 9.0f;
    q = fmaf(q, s2, 1.0f / 7.0f);
    q = fmaf(q, s2, 1.0f / 5.0f);
    q = fmaf(q, s2, 1.0f / 3.0f);
    const float de = (float)e;
    const float lm = fmaf(2.0f * s * s2, q, fmaf(de, LN2_LO_F, 2.0f * s));
    return fmaf(de, LN2_HI_F, lm);
}

static inline float act_elem_f(float x, ars_activation act) {
    switch (act) {
        case ARS_ACTIVATION_SELU: {
            float neg = (float)(SELU_SCALE * SELU_ALPHA) * expm1_core_f(x > 0.0f ? 0.0f : x);
            return x > 0.0f ? (float)SELU_SCALE * x : neg;
        }
        case ARS_ACTIVATION_TANH:
            return tanh_elem_f(x);
        case ARS_ACTIVATION_RELU:
            return x < 0.0f ? 0.0f : x;
        case ARS_ACTIVATION_GELU:
            return 0.5f * x * (1.0f + tanh_elem_f((float)GELU_C * (x + 0.044715f * x * x * x)));
        case ARS_ACTIVATION_IDENTITY:
            return x;
    }
    return x;
}

/* ---- array loops ------------------------------------------------------------------------- */

const char *ars_activation_name(ars_activation a) {
    switch (a) {
        case ARS_ACTIVATION_SELU:
            return "selu";
        case ARS_ACTIVATION_TANH:
            return "tanh";
        case ARS_ACTIVATION_RELU:
            return "relu";
        case ARS_ACTIVATION_GELU:
            return "gelu";
        case ARS_ACTIVATION_IDENTITY:
            return "identity";
    }
    return NULL;
}

/* One loop per activation, so that each vectorises without a switch inside. The type T is a
 * macro argument that cannot be parenthesised. */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ACT_LOOPS(SUFFIX, T, ELEM)                                                                 \
    ARS_CLONES static void act_selu##SUFFIX(T *out, const T *in, size_t n) {                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            out[i] = ELEM(in[i], ARS_ACTIVATION_SELU);                                             \
        }                                                                                          \
    }                                                                                              \
    ARS_CLONES static void act_tanh##SUFFIX(T *out, const T *in, size_t n) {                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            out[i] = ELEM(in[i], ARS_ACTIVATION_TANH);                                             \
        }                                                                                          \
    }                                                                                              \
    ARS_CLONES static void act_relu##SUFFIX(T *out, const T *in, size_t n) {                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            out[i] = ELEM(in[i], ARS_ACTIVATION_RELU);                                             \
        }                                                                                          \
    }                                                                                              \
    ARS_CLONES static void act_gelu##SUFFIX(T *out, const T *in, size_t n) {                       \
        for (size_t i = 0; i < n; i++) {                                                           \
            out[i] = ELEM(in[i], ARS_ACTIVATION_GELU);                                             \
        }                                                                                          \
    }

ACT_LOOPS(, double, act_elem)
ACT_LOOPS(_f, float, act_elem_f)
// NOLINTEND(bugprone-macro-parentheses)

void ars_activation_apply(double *out, const double *in, size_t n, ars_activation act) {
    switch (act) {
        case ARS_ACTIVATION_SELU:
            act_selu(out, in, n);
            return;
        case ARS_ACTIVATION_TANH:
            act_tanh(out, in, n);
            return;
        case ARS_ACTIVATION_RELU:
            act_relu(out, in, n);
            return;
        case ARS_ACTIVATION_GELU:
            act_gelu(out, in, n);
            return;
        case ARS_ACTIVATION_IDENTITY:
            if (out != in) {
                memmove(out, in, n * sizeof(double));
            }
            return;
    }
}

void ars_activation_apply_f(float *out, const float *in, size_t n, ars_activation act) {
    switch (act) {
        case ARS_ACTIVATION_SELU:
            act_selu_f(out, in, n);
            return;
        case ARS_ACTIVATION_TANH:
            act_tanh_f(out, in, n);
            return;
        case ARS_ACTIVATION_RELU:
            act_relu_f(out, in, n);
            return;
        case ARS_ACTIVATION_GELU:
            act_gelu_f(out, in, n);
            return;
        case ARS_ACTIVATION_IDENTITY:
            if (out != in) {
                memmove(out, in, n * sizeof(float));
            }
            return;
    }
}

// NOLINTBEGIN(bugprone-macro-parentheses)
#define MAP_LOOP(NAME, T, ELEM)                                                                    \
    ARS_CLONES void NAME(T *out, const T *in, size_t n) {                                          \
        for (size_t i = 0; i < n; i++) {                                                           \
            out[i] = ELEM(in[i]);                                                                  \
        }                                                                                          \
    }

MAP_LOOP(ars_vexp, double, exp_elem)
MAP_LOOP(ars_vexpm1, double, expm1_elem)
MAP_LOOP(ars_vtanh, double, tanh_elem)
MAP_LOOP(ars_vexp_f, float, exp_elem_f)
MAP_LOOP(ars_vexpm1_f, float, expm1_elem_f)
MAP_LOOP(ars_vtanh_f, float, tanh_elem_f)
MAP_LOOP(ars_vlog, double, log_elem)
MAP_LOOP(ars_vlog_f, float, log_elem_f)
// NOLINTEND(bugprone-macro-parentheses)

/* The head, vectorised over the batch: a pass for the maximum, one for the sum of
 * exponentials, one for the output. Each element's arithmetic does not depend on B. */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define LOG_SOFTMAX(NAME, T, EXP, LOG)                                                             \
    ARS_CLONES void NAME(T *out, const T *z, int D, int B, size_t ld, T mp) {                      \
        for (int b0 = 0; b0 < B; b0 += 64) {                                                       \
            const int nb = B - b0 < 64 ? B - b0 : 64;                                              \
            T zmax[64], sum[64];                                                                   \
            for (int v = 0; v < nb; v++) {                                                         \
                zmax[v] = z[b0 + v];                                                               \
                sum[v] = 0;                                                                        \
            }                                                                                      \
            for (int i = 1; i < D; i++) {                                                          \
                for (int v = 0; v < nb; v++) {                                                     \
                    const T zi = z[(size_t)i * ld + b0 + v];                                       \
                    zmax[v] = zi > zmax[v] ? zi : zmax[v];                                         \
                }                                                                                  \
            }                                                                                      \
            for (int i = 0; i < D; i++) {                                                          \
                for (int v = 0; v < nb; v++) {                                                     \
                    sum[v] += EXP(mp * (z[(size_t)i * ld + b0 + v] - zmax[v]));                    \
                }                                                                                  \
            }                                                                                      \
            for (int v = 0; v < nb; v++) {                                                         \
                zmax[v] += LOG(sum[v]) / mp; /* the normaliser, reusing the buffer */              \
            }                                                                                      \
            for (int i = 0; i < D; i++) {                                                          \
                for (int v = 0; v < nb; v++) {                                                     \
                    out[(size_t)i * ld + b0 + v] = z[(size_t)i * ld + b0 + v] - zmax[v];           \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

LOG_SOFTMAX(ars_log_softmax, double, exp_elem, log_elem)
LOG_SOFTMAX(ars_log_softmax_f, float, exp_elem_f, log_elem_f)
// NOLINTEND(bugprone-macro-parentheses)

/* d/dx of the tanh-form GELU: 0.5 (1 + th) + 0.5 x (1 - th^2) c (1 + 3 * 0.044715 x^2),
 * th = tanh(c (x + 0.044715 x^3)). */
static inline double gelu_grad_elem(double x) {
    const double th = tanh_elem(GELU_C * (x + 0.044715 * x * x * x));
    return 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * GELU_C * (1.0 + 3.0 * 0.044715 * x * x);
}

ARS_CLONES void ars_activation_backward(double *dz, const double *da, const double *z,
                                        const double *a, size_t n, ars_activation act) {
    switch (act) {
        case ARS_ACTIVATION_SELU:
            for (size_t i = 0; i < n; i++) {
                /* In the forward pass: a = scale * (z > 0 ? z : alpha * expm1(z)). */
                dz[i] = da[i] * (z[i] > 0.0 ? SELU_SCALE : a[i] + SELU_SCALE * SELU_ALPHA);
            }
            return;
        case ARS_ACTIVATION_TANH:
            for (size_t i = 0; i < n; i++) {
                dz[i] = da[i] * (1.0 - a[i] * a[i]);
            }
            return;
        case ARS_ACTIVATION_RELU:
            for (size_t i = 0; i < n; i++) {
                dz[i] = z[i] > 0.0 ? da[i] : 0.0;
            }
            return;
        case ARS_ACTIVATION_GELU:
            for (size_t i = 0; i < n; i++) {
                dz[i] = da[i] * gelu_grad_elem(z[i]);
            }
            return;
        case ARS_ACTIVATION_IDENTITY:
            if (dz != da) {
                memmove(dz, da, n * sizeof(double));
            }
            return;
    }
}
