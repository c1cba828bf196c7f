#include "codec/ypred.h"

/* Same parity as (0, 0), earlier in raster order, within two rows and columns. */
const int8_t lwc_ypred_off[LWC_YPRED_TAPS][2] = { { -2, -2 }, { -2, 0 }, { -2, 2 }, { -1, -1 }, { -1, 1 }, { 0, -2 } };
