// Hugging Face model folders (`config.json`, `model.safetensors`, `preprocessor_config.json`):
// read and written without Python. Tensors keep PyTorch's names and layouts here; mapping them to
// Rubble's layouts is the model's job (Segmentation).
//
//   SafeTensorsFile / SafeTensorsHeader   the reader; the whole header is validated on open (hostile input)
//   SafeTensorsWriter                     the writer, in the safetensors library's order and padding
//   HuggingFaceConfig                     config.json as JSON, with the model_type check
//   SegformerConfiguration                transformers' SegformerConfig (defaults, validation, save)
//   DepthAnythingConfiguration            transformers' DepthAnythingConfig with its Dinov2Configuration backbone
//   ImageProcessorConfiguration           preprocessor_config.json (Segformer / DPT image processors)
//   JSONValue / JSONFile                  JSON through Foundation (JSONSerialization in, JSONEncoder out)
//   HuggingFaceError                      every error, naming the file and the tensor or key
