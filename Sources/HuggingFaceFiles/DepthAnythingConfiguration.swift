import Foundation

/// `transformers`' `DepthAnythingConfig` (`DepthAnythingForDepthEstimation`, Depth Anything V1
/// and V2 of any size): the DINOv2 backbone's configuration and the DPT neck and head, with
/// transformers' defaults (Depth Anything Small) for keys the file leaves out. Read from a
/// model folder's `config.json` (``load(folder:)``); keys this type does not model are kept in
/// ``otherKeys``.
///
/// The neck reassembles the backbone's `outIndices` hidden states into feature maps: stage `i`
/// projects to `neckHiddenSizes[i]` channels and resizes by `reassembleFactors[i]` (a
/// transposed convolution for factors > 1, none for 1, a strided 3x3 convolution for factors
/// < 1), each is mapped to `fusionHiddenSize` channels, and fusion blocks merge them from the
/// coarsest up. The head turns the `headInIndex`th fused map into one channel at the input's
/// resolution: relative inverse depth (`"relative"`, ReLU) or metric depth (`"metric"`,
/// sigmoid times `maxDepth`).
public struct DepthAnythingConfiguration: Sendable, Equatable {
    public var backbone: Dinov2Configuration
    /// The patch size the neck and head use to size the feature maps (the backbone's own).
    public var patchSize: Int
    /// Channels of the backbone's hidden states the reassemble stage reads.
    public var reassembleHiddenSize: Int
    public var reassembleFactors: [Double]
    public var neckHiddenSizes: [Int]
    public var fusionHiddenSize: Int
    /// Which fused map the head reads (Python indexing: -1 is the last, the finest).
    public var headInIndex: Int
    public var headHiddenSize: Int
    public var depthEstimationType: DepthEstimationType
    /// The factor of the head's output (metric models: the largest depth, 20 indoors, 80
    /// outdoors; relative models: 1 in every released file).
    public var maxDepth: Double
    public var initializerRange: Double
    public var otherKeys: [String: JSONValue]

    /// What the head predicts.
    public enum DepthEstimationType: String, Sendable, Equatable, CaseIterable {
        /// Relative inverse depth (disparity up to scale and shift), ReLU'd: larger is nearer.
        case relative
        /// Depth in metres, `sigmoid · max_depth`: larger is farther.
        case metric
    }

    /// `model_type` of Depth Anything configurations.
    public static let modelType = "depth_anything"
    /// Bounds on sizes read from a file (hostile input).
    public static let maximumSize = 65536
    /// The most parameters a configuration may describe (building one allocates them).
    public static let maximumParameters = 1 << 31

    /// The backbone `DepthAnythingConfig()` builds when `config.json` has no `backbone_config`:
    /// DINOv2-Small (hidden 384, 6 heads, 12 layers) for 518x518 images, layers 9-12.
    public static let defaultBackbone = Dinov2Configuration(hiddenSize: 384, numAttentionHeads: 6, imageSize: 518,
                                                            outIndices: [9, 10, 11, 12], reshapeHiddenStates: false)

    /// `DepthAnythingConfig()`'s defaults (Depth Anything Small, relative depth).
    public init(backbone: Dinov2Configuration = DepthAnythingConfiguration.defaultBackbone, patchSize: Int = 14,
                reassembleHiddenSize: Int = 384, reassembleFactors: [Double] = [4, 2, 1, 0.5],
                neckHiddenSizes: [Int] = [48, 96, 192, 384], fusionHiddenSize: Int = 64, headInIndex: Int = -1,
                headHiddenSize: Int = 32, depthEstimationType: DepthEstimationType = .relative, maxDepth: Double = 1,
                initializerRange: Double = 0.02, otherKeys: [String: JSONValue] = [:]) {
        self.backbone = backbone
        self.patchSize = patchSize
        self.reassembleHiddenSize = reassembleHiddenSize
        self.reassembleFactors = reassembleFactors
        self.neckHiddenSizes = neckHiddenSizes
        self.fusionHiddenSize = fusionHiddenSize
        self.headInIndex = headInIndex
        self.headHiddenSize = headHiddenSize
        self.depthEstimationType = depthEstimationType
        self.maxDepth = maxDepth
        self.initializerRange = initializerRange
        self.otherKeys = otherKeys
    }

    /// Depth Anything V2 Small (`depth-anything/Depth-Anything-V2-Small-hf`): DINOv2-Small
    /// reading layers 3, 6, 9 and 12.
    public static let v2Small = DepthAnythingConfiguration(
        backbone: Dinov2Configuration(hiddenSize: 384, numAttentionHeads: 6, imageSize: 518, outIndices: [3, 6, 9, 12]))

    /// How a reassemble stage resizes its map, from its factor.
    public enum Resize: Sendable, Equatable {
        /// A transposed convolution of kernel = stride = factor.
        case up(Int)
        case none
        /// A 3x3 convolution of this stride, padding 1 (`int(1 / factor)`).
        case down(Int)
    }

    /// The resize of reassemble stage `stage` (factors checked by ``validate(file:)``).
    public func resize(ofStage stage: Int) -> Resize {
        let factor = reassembleFactors[stage]
        if factor > 1 { return .up(Int(factor)) }
        if factor == 1 { return .none }
        return .down(Int(1 / factor))
    }

    /// Checks every value: the backbone's (``Dinov2Configuration/validate(file:prefix:)``),
    /// the patch size equal to the backbone's, sizes in 1...65536, as many neck sizes as
    /// reassemble factors and backbone out indices (1...16), factors that are integers above 1,
    /// exactly 1, or below 1 with `1 / factor` in 2...64, the reassemble width equal to the
    /// backbone's hidden size, an even fusion width, `head_in_index` naming a fused map, a
    /// finite positive `max_depth`, and at most ``maximumParameters`` parameters.
    public func validate(file: String) throws {
        func fail(_ key: String, _ reason: String) -> HuggingFaceError { .invalidConfig(file: file, key: key, reason: reason) }
        try backbone.validate(file: file)
        let size = 1...Self.maximumSize
        guard patchSize == backbone.patchSize else {
            throw fail("patch_size", "\(patchSize) differs from backbone_config.patch_size \(backbone.patchSize)")
        }
        for (key, value) in [("reassemble_hidden_size", reassembleHiddenSize), ("fusion_hidden_size", fusionHiddenSize),
                             ("head_hidden_size", headHiddenSize)] where !size.contains(value) {
            throw fail(key, "\(value) is outside \(size)")
        }
        guard reassembleHiddenSize == backbone.hiddenSize else {
            throw fail("reassemble_hidden_size", "\(reassembleHiddenSize) differs from backbone_config.hidden_size \(backbone.hiddenSize)")
        }
        guard fusionHiddenSize >= 2, fusionHiddenSize % 2 == 0 else {
            throw fail("fusion_hidden_size", "\(fusionHiddenSize) is not even (the head halves it)")
        }
        guard (1...16).contains(neckHiddenSizes.count) else {
            throw fail("neck_hidden_sizes", "has \(neckHiddenSizes.count) entries, expected 1...16")
        }
        if let bad = neckHiddenSizes.firstIndex(where: { !size.contains($0) }) {
            throw fail("neck_hidden_sizes[\(bad)]", "\(neckHiddenSizes[bad]) is outside \(size)")
        }
        guard reassembleFactors.count == neckHiddenSizes.count else {
            throw fail("reassemble_factors", "has \(reassembleFactors.count) entries, neck_hidden_sizes \(neckHiddenSizes.count)")
        }
        guard backbone.outIndices.count == neckHiddenSizes.count else {
            throw fail("backbone_config.out_indices", "has \(backbone.outIndices.count) entries, neck_hidden_sizes "
                       + "\(neckHiddenSizes.count): the neck reads one hidden state per size")
        }
        for (index, factor) in reassembleFactors.enumerated() {
            let integral = factor.isFinite && factor > 1 && factor <= 64 && factor.rounded() == factor
            let inverse = factor.isFinite && factor > 0 && factor < 1 ? Int(1 / factor) : 0
            guard integral || factor == 1 || (2...64).contains(inverse) else {
                throw fail("reassemble_factors[\(index)]", "\(factor) is not an integer in 2...64, 1, or a fraction "
                           + "whose inverse is in 2...64")
            }
        }
        guard (-neckHiddenSizes.count..<neckHiddenSizes.count).contains(headInIndex) else {
            throw fail("head_in_index", "\(headInIndex) is outside \(-neckHiddenSizes.count)...\(neckHiddenSizes.count - 1)")
        }
        guard maxDepth.isFinite, maxDepth > 0 else { throw fail("max_depth", "\(maxDepth) is not a finite number > 0") }
        guard let count = parameterCount, count <= Self.maximumParameters else {
            throw fail("backbone_config", "describes more than \(Self.maximumParameters) parameters")
        }
    }

    /// The model's parameter count (the mask token included when the backbone has one), `nil`
    /// when it overflows. Sizes must have been range-checked.
    public var parameterCount: Int? {
        var total = 0, overflow = false
        func add(_ terms: Int...) {
            var product = 1
            for term in terms {
                let (p, o) = product.multipliedReportingOverflow(by: term)
                product = p; overflow = overflow || o
            }
            let (sum, o) = total.addingReportingOverflow(product)
            total = sum; overflow = overflow || o
        }
        let d = backbone.hiddenSize, p = backbone.patchSize, grid = backbone.positionGrid
        add(backbone.numChannels, p, p, d); add(d)                      // patch embedding
        add(d); if backbone.useMaskToken { add(d) }                     // class and mask tokens
        add(grid, grid, d); add(d)                                      // position embeddings
        let mlp = backbone.mlpHiddenSize
        add(backbone.numHiddenLayers, 11 * d + mlp)  // biases, norms, layer scales
        add(backbone.numHiddenLayers, 4, d, d); add(backbone.numHiddenLayers, 2, d, mlp)
        add(2, d)                                                       // final LayerNorm
        let f = fusionHiddenSize
        for (stage, channels) in neckHiddenSizes.enumerated() {
            add(d, channels); add(channels)
            switch resize(ofStage: stage) {
            case let .up(k): add(channels, channels, k, k); add(channels)
            case .none: break
            case .down: add(9, channels, channels); add(channels)
            }
            add(9, channels, f)                                         // neck.convs.i
            add(f, f); add(f); add(4, 9, f, f); add(4, f)                // fusion layer i
        }
        add(9, f, f / 2); add(f / 2); add(9, f / 2, headHiddenSize); add(headHiddenSize); add(headHiddenSize); add(1)
        return overflow ? nil : total
    }

    /// Reads `config.json` in `folder` and checks it is a Depth Anything configuration
    /// (``HuggingFaceError/missingFile(file:)``, ``HuggingFaceError/unsupportedModelType(file:found:expected:)``
    /// naming the `model_type` found, e.g. a SegFormer folder, and the value errors of
    /// ``init(json:file:)``).
    public static func load(folder: URL) throws -> DepthAnythingConfiguration {
        let config = try HuggingFaceConfig(folder: folder)
        try config.requireModelType(modelType)
        return try DepthAnythingConfiguration(json: config.values, file: config.path)
    }
}
