import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The process's resident memory from `/proc/self/status` (Linux), for tests that bound the
/// peak memory of a decode.
enum ProcessMemory {
    /// A field of `/proc/self/status` in bytes ("VmRSS", "VmHWM": the peak resident size).
    static func value(_ field: String) -> Int? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(field + ":") else { continue }
            let digits = text.dropFirst(field.count + 1).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }  // the kernel reports kB
        }
        return nil
    }

    /// Resets VmHWM to the current VmRSS (`echo 5 > /proc/self/clear_refs`, Linux >= 4.0).
    @discardableResult
    static func resetPeak() -> Bool {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return write(fd, "5", 1) == 1
    }

    /// What `body` did to the peak resident size: the resident size before, the peak after, and
    /// the growth (peak - before). When the peak cannot be reset, the growth is measured from
    /// the earlier peak (so it is a lower bound; `reset` says which).
    struct Measurement {
        var before: Int
        var peak: Int
        var reset: Bool
        var growth: Int { max(0, peak - before) }
        var description: String {
            String(format: "resident %.1f MB before, peak %.1f MB during, growth %.1f MB%@",
                   Double(before) / 1e6, Double(peak) / 1e6, Double(growth) / 1e6, reset ? "" : " (peak not reset)")
        }
    }

    static func measure<R>(_ body: () throws -> R) rethrows -> (result: R, memory: Measurement) {
        let reset = resetPeak()
        let before = (reset ? value("VmRSS") : value("VmHWM")) ?? 0
        let result = try body()
        let peak = value("VmHWM") ?? 0
        return (result, Measurement(before: before, peak: peak, reset: reset))
    }
}
