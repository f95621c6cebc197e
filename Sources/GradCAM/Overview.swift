// GradCAM: why the model picked a photo, as heat maps over it.
//
// - GradCAM (GradCAM.swift): Grad-CAM and Grad-CAM++ at any named layer with a 4-D output
//   (default: the last Conv2D), batched, one target class per image, every class at once.
//   The model is split at the layer (ModelSplit.swift): the prefix runs once without a graph,
//   then each requested class costs one small pass through the rest of the model.
// - GradCAMOptions / GradCAMTarget / GradCAMResult: what to compute and what comes back.
// - HeatMapMath: the channel weights (mean gradient, or Grad-CAM++'s), ReLU and normalisation.
// - GradCAMPanel: the paper's figures -- the photo and one jet overlay per class side by side,
//   titled, the predicted class highlighted -- drawn on Vision's Canvas with its BitmapFont.
// - GradCAMReport: one image end to end (maps for each class, the panel, file names).
// - GradCAMReport.writeNPY: heat maps as NumPy .npy files (Tensor's NPYFile), written atomically.
