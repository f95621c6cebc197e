// Screening: from a flood of social-media photos to the few that need a human look.
//
// - PhotoDirectory / DirectoryWatcher: the photos under a folder in sorted (byte) path order,
//   walked with opendir/readdir so names that are not UTF-8 are kept (FileName escapes them for
//   display); unreadable folders, broken or refused links and special files become error
//   entries; polling for new ones, each handed out once its size and mtime have been stable for
//   a wall-clock interval, and again when a failed one changes.
// - PhotoPreparer: per-photo work without the model, over the cores, each photo start to end on
//   one core: read (POSIX, no links followed), SHA-256 (SHA256, dependency-free), header size
//   filter, decode (JPEG DCT scaling), imagehash-compatible pHash (Vision's PerceptualHash),
//   reduction to the model input and panel thumbnail (ReducedPhoto).
// - DuplicateIndex: exact duplicates by digest, near duplicates by Hamming distance of hashes
//   through HammingIndex (multi-index hashing: exact answers, ~1 % of a linear scan at 100k).
// - Deduplicator / DedupReport: `rubble dedup` -- groups, kept photos, counts, JSON.
// - Screener: `rubble screen` -- de-duplicate, filter, classify in batches, Grad-CAM panels for
//   flagged photos; ScreenResults (results.csv) and ScreenReport (report.html, CSP, ScriptJSON)
//   kept current on disk with atomic rewrites; OutputLeftovers (interrupted writes' temporaries);
//   StageTimes for the images/s summary.
