import MrshShell
import Testing

@Suite struct ByteSizeTests {
    static let sizes: [(String, Int64)] = [
        ("1500", 1500), ("0", 0), ("64K", 65_536), ("64k", 65_536), ("64KiB", 65_536), ("64kib", 65_536),
        ("32M", 33_554_432), ("32MiB", 33_554_432), ("1G", 1_073_741_824), ("1GiB", 1_073_741_824),
        ("2T", 2_199_023_255_552), ("2TiB", 2_199_023_255_552),
    ]

    @Test(arguments: sizes)
    func sizesAsUsersWriteThem(text: String, bytes: Int64) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "K", "KiB", "iB", "10iB", "64MB", "64 M", "-1", "1.5G", "64X", "9999999999999999T", "٣K"])
    func whatIsNotASize(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func formatIsTheShortestExactForm() {
        #expect(ByteSize.format(32 << 20) == "32M")
        #expect(ByteSize.format(1500) == "1500")
        #expect(ByteSize.parse(ByteSize.format(3 << 30)) == 3 << 30)
    }
}
