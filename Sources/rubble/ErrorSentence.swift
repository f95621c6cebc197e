import Foundation

/// Errors as one sentence for a person: Foundation's file errors become
/// `<path>: <operation failed because ...>` instead of an `NSError` dump with its user info.
enum ErrorSentence {
    static func describe(_ error: any Error) -> String {
        guard isFoundationError(error) else { return "\(error)" }
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else {
            return "\(error)"
        }
        var reason = ns.localizedDescription
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            reason += " (\(String(cString: strerror(code.rawValue))))"
        }
        let path = ns.userInfo[NSFilePathErrorKey] as? String
            ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        if let path, !reason.contains(path) { return "\(path): \(reason)" }
        return reason
    }

    /// Foundation's own errors (the rest describe themselves).
    static func isFoundationError(_ error: any Error) -> Bool {
        error is CocoaError || error is POSIXError || type(of: error) == NSError.self
    }
}
