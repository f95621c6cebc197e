// Types that moved below Screening so that Train can share them (ARCHITECTURE.md §1), still
// reachable through `import Screening`: FileName and CSVFormat (Markup), SHA256 and
// SHA256Digest (Digest).
@_exported import Digest
@_exported import Markup
