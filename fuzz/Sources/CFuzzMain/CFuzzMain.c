// SwiftPM links every executable target on Linux with `--defsym main=<Target>_main`, which replaces
// libFuzzer's own `main` with a symbol that a `-parse-as-library` target never defines (see
// swiftlang/swift-package-manager#4522). These definitions hand control back to libFuzzer's driver.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int FuzzParser_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}

int FuzzFrames_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
