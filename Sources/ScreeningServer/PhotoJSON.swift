import Foundation
import Screening

/// A photo as the API shows it (`docs/openapi.yaml`'s `Photo`): every field present, null when
/// there is nothing to say.
enum PhotoJSON {
    static func object(_ photo: PhotoRecord, classNames: [String]) -> [String: Any] {
        var probabilities: Any = NSNull()
        if photo.probabilities.count == classNames.count {
            var byClass: [String: Any] = [:]
            for (name, p) in zip(classNames, photo.probabilities) { byClass[name] = JSONResponse.number(p) }
            probabilities = byClass
        }
        return [
            "id": photo.id,
            "status": photo.status.rawValue,
            "probabilities": probabilities,
            "label": JSONResponse.orNull(photo.label),
            "flagged": photo.flagged,
            "duplicate_of": JSONResponse.orNull(photo.duplicateOf),
            "severity": JSONResponse.orNull(photo.severity),
            "latitude": JSONResponse.orNull(photo.latitude),
            "longitude": JSONResponse.orNull(photo.longitude),
            "error": JSONResponse.orNull(photo.error),
            "source": JSONResponse.orNull(photo.source),
            "taken_at": JSONResponse.orNull(photo.takenAt),
            "added_at": photo.addedAt,
            "has_gradcam": photo.hasGradCAM,
            "verdict": JSONResponse.orNull(photo.verdicts.last?.label),
            "verdicts": photo.verdicts.map { ["label": $0.label, "verifier": $0.verifier, "created_at": $0.createdAt] },
        ]
    }
}
