// The umbrella module: `import Rubble` brings in every library module, for the common case of
// training, evaluating and explaining a classifier, segmenting damage and estimating depth. Each module can still
// be imported alone.
@_exported import AtomicFiles
@_exported import Demo
@_exported import Digest
@_exported import Depth
@_exported import GradCAM
@_exported import HuggingFaceFiles
@_exported import Inference
@_exported import KerasFiles
@_exported import Layers
@_exported import Markup
@_exported import Screening
@_exported import Segmentation
@_exported import SegmentationTraining
@_exported import Tensor
@_exported import Train
@_exported import Vision
@_exported import Zoo
