// Hugging Face model folders (`config.json`, `model.safetensors`, `preprocessor_config.json`):
// read and written without Python. Tensors keep PyTorch's names and layouts here; mapping them to
// Rubble's layouts is the model's job (Segmentation).
