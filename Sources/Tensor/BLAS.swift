import CBLAS

/// The OpenBLAS binding: loaded on first use, after choosing AVX-512 kernels where the CPU
/// has them (see ARCHITECTURE.md §4).
public enum BLAS {
    /// Why OpenBLAS could not be loaded (`nil` once it is).
    private static let loadFailure: String? = {
        var message = [CChar](repeating: 0, count: 512)
        guard rubble_blas_load(&message, Int32(message.count)) != 0 else { return nil }
        return String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// Loads OpenBLAS now, or throws `BLASError.unavailable` saying why (the library is not
    /// installed, the core type is unknown). Call it before work: a GEMM without OpenBLAS
    /// cannot go on and stops the process.
    public static func ensureLoaded() throws {
        if let loadFailure { throw BLASError.unavailable(loadFailure) }
    }

    /// Loads OpenBLAS now (otherwise the first GEMM does); stops the process with the reason
    /// if it cannot be loaded (see `ensureLoaded()` to handle that).
    public static func load() {
        if let loadFailure { fatalError("Rubble: OpenBLAS is unavailable: \(loadFailure)") }
    }

    /// OpenBLAS' name for the kernels in use, e.g. "SkylakeX".
    public static var coreName: String { load(); return String(cString: rubble_blas_core_name()) }

    /// The core type this process asked for ("" if the user's `OPENBLAS_CORETYPE` or
    /// OpenBLAS' own detection decided).
    public static var chosenCore: String { load(); return String(cString: rubble_blas_chosen_core()) }

    public static var cpuHasAVX512: Bool { rubble_cpu_has_avx512() != 0 }

    /// OpenBLAS' thread count (set from `RUBBLE_THREADS`, else all cores).
    public static var threads: Int {
        get { load(); return Int(rubble_blas_threads()) }
        set { load(); rubble_blas_set_threads(Int32(newValue)) }
    }

    /// `body` with OpenBLAS held to one thread (for work that is parallel already), then its
    /// thread count again. Inside parallel work (``Parallel/isNested``) it only runs `body`: the
    /// outer level holds OpenBLAS already.
    public static func withOneThread<R>(_ body: () throws -> R) rethrows -> R {
        guard !Parallel.isNested, Parallel.threadCount > 1 else { return try body() }
        let before = threads
        guard before > 1 else { return try body() }
        threads = 1
        defer { threads = before }
        return try body()
    }

    /// Row-major `C = alpha * op(A) * op(B) + beta * C` where op(A) is `[m, k]`, op(B) `[k, n]`.
    public static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        load()
        rubble_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                     transposeB ? CblasTrans : CblasNoTrans,
                     Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta,
                     c, Int32(ldc))
    }
}

/// OpenBLAS is missing or refused to load.
public enum BLASError: Error, CustomStringConvertible, Equatable, Sendable {
    case unavailable(String)

    public var description: String {
        switch self {
        case let .unavailable(reason):
            return "OpenBLAS cannot be loaded: \(reason) (scripts/setup.sh installs Debian's libopenblas-dev)"
        }
    }
}
