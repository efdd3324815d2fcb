/* onestep.c - training dynamics against an independent reference.
 *
 * Writes a model's initial parameters and one batch to DIR/init.bin and
 * DIR/batch.bin, then takes STEPS Adam steps on that batch and prints the
 * loss before each step, and the step's wall time in ms (forward,
 * backward and Adam: bench/cells_step.py's figure).  bench/peer_check.py loads the same weights into
 * PyTorch's nn.LSTM + nn.Linear, takes the same steps with torch.optim.Adam
 * and compares the losses: the gradient test checks one step's derivatives;
 * this checks the whole step (loss, gradients, Adam) over many.
 *
 * usage: onestep DIR [T I H L C N STEPS [CELL]]   (defaults: a 2-layer
 *        MNIST-like shape, 28 28 64 2 10 100 30, lstm; CELL as cell.h
 *        names it: lstm, gru, lbr-gru, rnn) */
#include <stdio.h>
#include <stdlib.h>

#include "lstmsweep/model.h"
#include "lstmsweep/rng.h"
#include "lstmsweep/sysinfo.h"

static int dump(const char *dir, const char *name, const void *p, size_t size,
                size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "ab");
    int ok = f && fwrite(p, size, n, f) == n;
    if (f)
        fclose(f);
    return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
    int v[7] = {28, 28, 64, 2, 10, 100, 30};
    ls_cell cell = LS_CELL_LSTM;
    if ((argc != 2 && argc != 9 && argc != 10) ||
        (argc == 10 && ls_cell_parse(argv[9], &cell))) {
        fprintf(stderr, "usage: onestep DIR [T I H L C N STEPS [CELL]]\n");
        return 2;
    }
    for (int i = 0; argc >= 9 && i < 7; i++)
        v[i] = atoi(argv[2 + i]);
    ls_model_config c = {.T = v[0], .I = v[1], .H = v[2], .L = v[3], .cell = cell,
                         .C = v[4], .batch = v[5], .seed = 1};
    int n = v[5], steps = v[6];
    ls_model *m;
    ls_err err = {0};
    ls_rng r;
    if (ls_model_create(&m, &c, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    size_t nx = (size_t)c.T * n * c.I;
    float *x = malloc(nx * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    ls_rng_seed(&r, 7, 0);
    for (size_t i = 0; i < nx; i++)
        x[i] = ls_rng_float(&r);
    for (int j = 0; j < n; j++)
        y[j] = (int32_t)ls_rng_below(&r, (uint64_t)c.C);
    if (dump(argv[1], "init.bin", ls_model_params(m), sizeof(float), ls_model_nparams(m)) ||
        dump(argv[1], "batch.bin", x, sizeof *x, nx) ||
        dump(argv[1], "batch.bin", y, sizeof *y, (size_t)n))
        return fprintf(stderr, "cannot write to %s\n", argv[1]), 1;
    for (int s = 0; s < steps; s++) {
        double loss, t0 = ls_sys_seconds();
        if (ls_model_forward_backward(m, x, y, n, 0, &loss, NULL, &err))
            return fprintf(stderr, "%s\n", err.msg), 1;
        ls_model_adam_step(m, 1e-3f);
        printf("%d %.8f %.4f\n", s, loss, 1e3 * (ls_sys_seconds() - t0));
    }
    ls_model_destroy(m);
    free(x);
    free(y);
    return 0;
}
