// Vision: image input and output for Rubble, everything between a file on disk and an NHWC
// `Tensor`, and back to a picture for Grad-CAM.
//
// - RGBImage: 8-bit RGB pixels, row-major HWC.
// - ImageDecoder: JPEG (libjpeg-turbo, with DCT-domain downscaling) and PNG (libpng, with a
//   streaming box-filter reduction), the format sniffed from the magic bytes; a per-photo
//   pixel limit (DecodeLimits, 50 MP) checked from the header; failures are ImageError values
//   that name the file.
// - ImageEncoder: PNG and JPEG to memory or, atomically, to a file.
// - Resize / ResizeMethod: TensorFlow's half-pixel bilinear and PIL's nearest; float maps too.
// - ModelInput / Preprocessing: images to `[batch, height, width, 3]`, resized and rescaled
//   (x/255) or "caffe"-normalised in one pass, rows spread over the cores.
// - PILResample / ResizeBackend / ImageProcessor: Pillow's and torchvision's 8-bit resizes bit for
//   bit, and Hugging Face's resize-rescale-normalize (SegFormer's processor) value for value.
// - ClassMask / GrayImage16: single-channel PNGs as stored (class indices, palette indices,
//   16-bit depth), read through rubble_png_decode_samples_*; exact crops and flips.
// - ColorMap (matplotlib's jet) and Overlay (heat map blended over an image) for Grad-CAM.
// - PhotoMetadata: EXIF capture time, GPS position and orientation (EXIFReader over CEXIF /
//   libexif, validated by EXIFValues); malformed EXIF reads as nil, never as an error.
//
// The C shims CJPEG and CPNG (png_decode.c, png_reduce.c, png_encode.c) hold the only setjmp:
// libjpeg and libpng report errors with longjmp, which must never jump over Swift frames. (No type here is named `Vision`: a type
// named like its module breaks module-qualified names such as `Vision.ImageDecoder`.)
