import CEXIF

/// The shim's allocation peak of the last read on this thread (tests of the memory budget).
enum EXIFReaderProbe {
    static var lastPeakBytes: Int { Int(rubble_exif_last_peak_bytes()) }
    static var budgetBytes: Int { Int(RUBBLE_EXIF_MEMORY_BUDGET) }
}
