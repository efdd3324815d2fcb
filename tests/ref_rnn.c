/* ref_rnn.c - the GRU, linear-before-reset GRU and tanh RNN layers of the
 * double-precision reference (ref_lstm.h), written from the equations of
 * oneDNN's RNN documentation (dev_guide_rnn, "GRU", "Linear-Before-Reset
 * GRU", "Vanilla RNN"), not from its code.  Per step, with x = x_t,
 * h = h_{t-1}, W the input and U the recurrent weights of each gate:
 *
 *   gru:      u = sig(W_u x + U_u h + B_u)
 *             r = sig(W_r x + U_r h + B_r)
 *             o = tanh(W_o x + U_o (r * h) + B_o)
 *             h_t = u * h + (1 - u) * o
 *   lbr-gru:  u, r as above
 *             o = tanh(W_o x + B_o + r * (U_o h + B_u'))
 *             h_t = u * h + (1 - u) * o          (bias rows u, r, o, u')
 *   rnn:      h_t = tanh(W x + U h + B)
 *
 * h_0 = 0; weights (I, G, H) and (H, G, H) ldigo, bias (Gb, H). */
#include "ref_lstm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ref_mutation;

static double sig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* a (G*H) = v (K) . w (K, G, H), gates [g0, g1) only, written to a. */
static void gemv(const double *v, int K, const double *w, int G, int H,
                 int g0, int g1, double *a)
{
    for (int q = g0 * H; q < g1 * H; q++) {
        double z = 0;
        for (int k = 0; k < K; k++)
            z += v[k] * w[(size_t)k * G * H + q];
        a[q] = z;
    }
}

void ref_gru_layer(int lbr, int T, int n, int I, int H, const double *wl,
                   const double *wi, const double *b, const double *in,
                   double *out)
{
    double *h = calloc((size_t)n * H, sizeof *h);
    double *gx = malloc(sizeof *gx * 3 * H), *gh = malloc(sizeof *gh * 3 * H);
    double *rh = malloc(sizeof *rh * H), *rhp = malloc(sizeof *rhp * H);
    double *u = malloc(sizeof *u * H), *r = malloc(sizeof *r * H);

    if (ref_mutation == REF_MUTATE_GRU_FORM)
        lbr = !lbr; /* the other GRU: the check must notice */
    for (int t = 0; t < T; t++) {
        for (int j = 0; j < n; j++) {
            const double *xt = in + ((size_t)t * n + j) * I;
            double *hj = h + (size_t)j * H;
            gemv(xt, I, wl, 3, H, 0, 3, gx);      /* W x, every gate */
            gemv(hj, H, wi, 3, H, 0, 2, gh);      /* U h for u and r */
            for (int k = 0; k < H; k++) {
                u[k] = sig(gx[k] + gh[k] + b[k]);
                r[k] = sig(gx[H + k] + gh[H + k] + b[H + k]);
            }
            if (lbr) {
                gemv(hj, H, wi, 3, H, 2, 3, gh);  /* U_o h */
                for (int k = 0; k < H; k++)
                    rh[k] = r[k] * (gh[2 * H + k] + b[3 * H + k]);
            } else {
                for (int k = 0; k < H; k++)
                    rhp[k] = r[k] * hj[k];
                gemv(rhp, H, wi, 3, H, 2, 3, gh); /* U_o (r * h) */
                for (int k = 0; k < H; k++)
                    rh[k] = gh[2 * H + k];
            }
            for (int k = 0; k < H; k++) {
                double o = tanh(gx[2 * H + k] + b[2 * H + k] + rh[k]);
                hj[k] = u[k] * hj[k] + (1 - u[k]) * o;
            }
            memcpy(out + ((size_t)t * n + j) * H, hj, sizeof(double) * H);
        }
    }
    free(h), free(gx), free(gh), free(rh), free(rhp), free(u), free(r);
}

void ref_rnn_layer(int T, int n, int I, int H, const double *wl,
                   const double *wi, const double *b, const double *in,
                   double *out)
{
    double *h = calloc((size_t)n * H, sizeof *h);
    double *gx = malloc(sizeof *gx * H), *gh = malloc(sizeof *gh * H);

    for (int t = 0; t < T; t++) {
        for (int j = 0; j < n; j++) {
            const double *xt = in + ((size_t)t * n + j) * I;
            double *hj = h + (size_t)j * H;
            gemv(xt, I, wl, 1, H, 0, 1, gx);
            gemv(hj, H, wi, 1, H, 0, 1, gh);
            for (int k = 0; k < H; k++)
                hj[k] = tanh(gx[k] + gh[k] + b[k]);
            memcpy(out + ((size_t)t * n + j) * H, hj, sizeof(double) * H);
        }
    }
    free(h), free(gx), free(gh);
}
