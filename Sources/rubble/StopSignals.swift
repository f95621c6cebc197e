import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT/SIGTERM; `screen` and `worker` stop at the next batch boundary.
let stopRequested = Atomic<Bool>(false)

/// SIGINT/SIGTERM ask the loop to stop after the current batch (files and the store stay
/// complete); a second signal ends the process at once.
func installStopHandlers() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { received in
            if stopRequested.exchange(true, ordering: .relaxed) {
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }
}
