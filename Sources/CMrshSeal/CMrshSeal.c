// Declarations only (see include/CMrshSeal.h); SwiftPM needs one source file in a C target.
#include "CMrshSeal.h"
