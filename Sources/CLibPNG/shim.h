#include <libpng16/png.h>
