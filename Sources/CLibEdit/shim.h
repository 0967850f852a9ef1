// Fixed-arity wrappers around libedit's variadic el_set/el_get/history, which Swift cannot call.
#ifndef MRSH_CLIBEDIT_SHIM_H
#define MRSH_CLIBEDIT_SHIM_H
#include <stdio.h>
#include <histedit.h>
#endif
