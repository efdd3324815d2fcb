/* ref_lstm.c - plain double-precision LSTM classifier, see ref_lstm.h.
 *
 * For each layer and step:
 *   g = x_t W_layer + h_{t-1} W_iter + b,   gates in order (i, f, c~, o)
 *   i = sig(g_i), f = sig(g_f), u = tanh(g_c), o = sig(g_o)
 *   c_t = f c_{t-1} + i u,   h_t = o tanh(c_t),   h_0 = c_0 = 0
 * then logits = h_T W_dense + b_dense and softmax cross-entropy. */
#include "ref_lstm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double sig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* One layer over the whole sequence: in (T, n, I) -> out (T, n, H). */
static void ref_layer(int T, int n, int I, int H, const double *wl,
                      const double *wi, const double *b, const double *in,
                      double *out)
{
    double *h = calloc((size_t)n * H, sizeof *h);
    double *c = calloc((size_t)n * H, sizeof *c);
    double *g = malloc(sizeof *g * 4 * H);

    for (int t = 0; t < T; t++) {
        for (int j = 0; j < n; j++) {
            const double *xt = in + ((size_t)t * n + j) * I;
            double *hj = h + (size_t)j * H, *cj = c + (size_t)j * H;
            for (int q = 0; q < 4 * H; q++) {
                double z = b[q];
                for (int k = 0; k < I; k++)
                    z += xt[k] * wl[(size_t)k * 4 * H + q];   /* ldigo: (i, g, o) */
                for (int k = 0; k < H; k++)
                    z += hj[k] * wi[(size_t)k * 4 * H + q];
                g[q] = z;
            }
            for (int u = 0; u < H; u++) {
                double ig = sig(g[u]), fg = sig(g[H + u]);
                double cc = tanh(g[2 * H + u]), og = sig(g[3 * H + u]);
                cj[u] = fg * cj[u] + ig * cc;
                hj[u] = og * tanh(cj[u]);
            }
            memcpy(out + ((size_t)t * n + j) * H, hj, sizeof(double) * H);
        }
    }
    free(h);
    free(c);
    free(g);
}

double ref_lstm_loss(const ls_model_config *c, const double *p,
                     const double *x, const int32_t *y, int n)
{
    int T = c->T, H = c->H, C = c->C;
    size_t off = 0;
    const double *in = x;
    double *bufs[2] = {malloc(sizeof(double) * T * n * H),
                       malloc(sizeof(double) * T * n * H)};
    double loss = 0;

    /* gates of the weights and of the bias of each cell, by hand here
     * (not from cell.c): (i f c~ o), (u r o), (u r o) + u', one */
    int G = c->cell == LS_CELL_LSTM ? 4 : c->cell == LS_CELL_RNN ? 1 : 3;
    int Gb = c->cell == LS_CELL_LBR_GRU ? 4 : G;
    for (int l = 0; l < c->L; l++) {
        int I = l == 0 ? c->I : H;
        const double *wl = p + off, *wi = wl + (size_t)I * G * H;
        const double *b = wi + (size_t)H * G * H;
        off += (size_t)I * G * H + (size_t)H * G * H + (size_t)Gb * H;
        if (c->cell == LS_CELL_LSTM)
            ref_layer(T, n, I, H, wl, wi, b, in, bufs[l % 2]);
        else if (c->cell == LS_CELL_RNN)
            ref_rnn_layer(T, n, I, H, wl, wi, b, in, bufs[l % 2]);
        else
            ref_gru_layer(c->cell == LS_CELL_LBR_GRU, T, n, I, H, wl, wi, b, in,
                          bufs[l % 2]);
        in = bufs[l % 2];
    }
    const double *w = p + off, *bd = w + (size_t)H * C;
    for (int j = 0; j < n; j++) {
        const double *h = in + ((size_t)(T - 1) * n + j) * H;
        double z[64], mx = -INFINITY, sum = 0;
        for (int k = 0; k < C; k++) {
            z[k] = bd[k];
            for (int u = 0; u < H; u++)
                z[k] += h[u] * w[(size_t)u * C + k];
            mx = z[k] > mx ? z[k] : mx;
        }
        for (int k = 0; k < C; k++)
            sum += exp(z[k] - mx);
        loss -= z[y[j]] - mx - log(sum);
    }
    free(bufs[0]);
    free(bufs[1]);
    return loss / n;
}
