import Tensor

extension Tensor {
    /// Tokens `range` of `[batch, tokens, channels]`: `[batch, range.count, channels]` (PyTorch's
    /// `x[:, a:b]`). The gradient puts the slice back among zeros.
    func slicingTokens(_ range: Range<Int>) -> Tensor {
        precondition(rank == 3 && range.lowerBound >= 0 && range.upperBound <= shape[1], "tokens \(range) of \(shape)")
        let (batch, tokens, channels) = (shape[0], shape[1], shape[2])
        let (first, kept) = (range.lowerBound, range.count)
        let out = withUnsafeBufferPointer { x in
            Tensor(unsafeUninitializedShape: [batch, kept, channels]) { y in
                for item in 0..<batch {
                    (y.baseAddress! + item * kept * channels)
                        .update(from: x.baseAddress! + (item * tokens + first) * channels, count: kept * channels)
                }
            }
        }
        return out.recordingGradient(from: self) { grad in
            grad.withUnsafeBufferPointer { g in
                Tensor(shape: [batch, tokens, channels]) { dx in
                    for item in 0..<batch {
                        (dx.baseAddress! + (item * tokens + first) * channels)
                            .update(from: g.baseAddress! + item * kept * channels, count: kept * channels)
                    }
                }
            }
        }
    }

    /// `[batch, n_i, channels]` tensors joined along the token axis (PyTorch's `torch.cat(dim=1)`).
    static func concatenatingTokens(_ parts: [Tensor]) -> Tensor {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.rank == 3 && $0.shape[0] == parts[0].shape[0]
                                                          && $0.shape[2] == parts[0].shape[2] },
                     "joining tokens of \(parts.map(\.shape))")
        let (batch, channels) = (parts[0].shape[0], parts[0].shape[2])
        let counts = parts.map { $0.shape[1] }, total = counts.reduce(0, +)
        let out = Tensor(unsafeUninitializedShape: [batch, total, channels]) { y in
            var offset = 0
            for (part, count) in zip(parts, counts) {
                part.withUnsafeBufferPointer { x in
                    for item in 0..<batch {
                        (y.baseAddress! + (item * total + offset) * channels)
                            .update(from: x.baseAddress! + item * count * channels, count: count * channels)
                    }
                }
                offset += count
            }
        }
        var offsets: [Int] = [], running = 0
        for count in counts { offsets.append(running); running += count }
        return out.recordingGradient(from: zip(parts, zip(offsets, counts)).map { part, slot in
            (part, { grad in
                grad.withUnsafeBufferPointer { g in
                    Tensor(unsafeUninitializedShape: [batch, slot.1, channels]) { dx in
                        for item in 0..<batch {
                            (dx.baseAddress! + item * slot.1 * channels)
                                .update(from: g.baseAddress! + (item * total + slot.0) * channels, count: slot.1 * channels)
                        }
                    }
                }
            })
        })
    }
}
