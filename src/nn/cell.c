/* cell.c - see include/lstmsweep/cell.h. */
#include "lstmsweep/cell.h"

#include <string.h>

#include "lstmsweep/error.h"

static const struct {
    const char *name;
    int gates, bias_gates;
} cells[LS_NCELLS] = {
    [LS_CELL_LSTM] = {"lstm", 4, 4},
    [LS_CELL_GRU] = {"gru", 3, 3},
    [LS_CELL_LBR_GRU] = {"lbr-gru", 3, 4},
    [LS_CELL_RNN] = {"rnn", 1, 1},
};

static int valid(ls_cell c) { return (unsigned)c < LS_NCELLS; }

const char *ls_cell_name(ls_cell c) { return valid(c) ? cells[c].name : "?"; }
int ls_cell_gates(ls_cell c) { return valid(c) ? cells[c].gates : 0; }
int ls_cell_bias_gates(ls_cell c) { return valid(c) ? cells[c].bias_gates : 0; }
int ls_cell_has_c(ls_cell c) { return c == LS_CELL_LSTM; }

int ls_cell_parse(const char *name, ls_cell *out)
{
    for (int c = 0; c < LS_NCELLS; c++)
        if (!strcmp(name, cells[c].name)) {
            *out = (ls_cell)c;
            return 0;
        }
    if (!strcmp(name, "lbr_gru")) {
        *out = LS_CELL_LBR_GRU;
        return 0;
    }
    return LS_EINVAL;
}
