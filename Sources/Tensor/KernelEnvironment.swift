import Foundation

/// The environment variables that tune Rubble's kernels, checked: `RUBBLE_THREADS` (worker
/// threads, a whole number from 1 to ``maximumThreads``) and `OPENBLAS_CORETYPE` (one of the
/// kernel names Debian's OpenBLAS 0.3.21 can be forced to, compared as OpenBLAS compares them,
/// ignoring case). An invalid value would otherwise be ignored without a word: `Parallel`
/// falls back to every core, OpenBLAS to its own detection. The `rubble` tool refuses to
/// start with one; a library user can ask ``problems(in:)``.
public enum KernelEnvironment {
    /// The largest `RUBBLE_THREADS` accepted.
    public static let maximumThreads = 1024

    /// The core names OpenBLAS 0.3.21's dynamic x86-64 build accepts in `OPENBLAS_CORETYPE`.
    public static let openBLASCoreTypes = [
        "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn", "Dunnington", "Nehalem",
        "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Sandybridge", "Bulldozer", "Piledriver", "Haswell",
        "Steamroller", "Excavator", "SkylakeX", "Cooperlake",
    ]

    /// One sentence per invalid setting in `environment`, naming the variable and its value;
    /// empty when every setting is valid or unset.
    public static func problems(in environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var problems: [String] = []
        if let text = environment["RUBBLE_THREADS"] {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if Int(trimmed).map({ !(1...maximumThreads).contains($0) }) ?? true {
                problems.append("RUBBLE_THREADS is '\(text)': it must be a whole number of threads from 1 to \(maximumThreads) (unset: every core)")
            }
        }
        if let core = environment["OPENBLAS_CORETYPE"], !core.isEmpty,
           !openBLASCoreTypes.contains(where: { $0.caseInsensitiveCompare(core) == .orderedSame }) {
#if arch(x86_64)
            problems.append("OPENBLAS_CORETYPE is '\(core)': OpenBLAS knows \(openBLASCoreTypes.joined(separator: ", ")) (unset: chosen from the CPU)")
#endif
        }
        return problems
    }
}
