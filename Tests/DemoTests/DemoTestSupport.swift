import Foundation

enum DemoTestData {
    /// A fresh directory under the temporary directory (the tests remove what they need to).
    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("rubble-demo-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
