/// How a verification team is doing: each verifier's counts and every pair's agreement, from
/// the verdict log. A person's latest verdict on a photo is the one that counts.
///
/// Agreement of a pair is over the photos both judged: the share with the same label (`rate`)
/// and Cohen's kappa, `(p_o - p_e) / (1 - p_e)` with `p_e = Σ_c p_a(c) p_b(c)` from each
/// person's label frequencies over those photos (1 when both always give the one same label).
public struct VerifierAgreement: Sendable, Equatable {
    public struct Verifier: Sendable, Equatable {
        public var name: String
        /// Every verdict given, also superseded ones.
        public var verdicts: Int
        /// Photos judged.
        public var photos: Int
        /// Photos whose latest verdict equals the model's label.
        public var agreeWithModel: Int
    }

    public struct Pair: Sendable, Equatable {
        public var a: String
        public var b: String
        /// Photos both judged.
        public var photos: Int
        public var agreed: Int
        public var rate: Double?
        public var kappa: Double?
    }

    public var verifiers: [Verifier]
    /// Pairs with at least one photo in common, by name.
    public var pairs: [Pair]

    /// `log` oldest first: (photo, label, verifier, the model's label).
    public init(_ log: [(photo: Int, label: String, verifier: String, predicted: String?)]) {
        var latest: [String: [Int: String]] = [:]
        var counts: [String: Int] = [:]
        var predicted: [Int: String] = [:]
        for v in log {
            latest[v.verifier, default: [:]][v.photo] = v.label
            counts[v.verifier, default: 0] += 1
            if let p = v.predicted { predicted[v.photo] = p }
        }
        let names = latest.keys.sorted()
        verifiers = names.map { name in
            let judged = latest[name] ?? [:]
            return Verifier(name: name, verdicts: counts[name] ?? 0, photos: judged.count,
                            agreeWithModel: judged.filter { predicted[$0.key] == $0.value }.count)
        }
        var pairs: [Pair] = []
        for (i, a) in names.enumerated() {
            for b in names[(i + 1)...] {
                let la = latest[a] ?? [:], lb = latest[b] ?? [:]
                let common = la.keys.filter { lb[$0] != nil }
                guard !common.isEmpty else { continue }
                let n = Double(common.count)
                let agreed = common.filter { la[$0] == lb[$0] }.count
                var fa: [String: Double] = [:], fb: [String: Double] = [:]
                for p in common {
                    fa[la[p] ?? "", default: 0] += 1 / n
                    fb[lb[p] ?? "", default: 0] += 1 / n
                }
                let po = Double(agreed) / n
                let pe = fa.reduce(0.0) { $0 + $1.value * (fb[$1.key] ?? 0) }
                let kappa = pe >= 1 ? (po >= 1 ? 1 : 0) : (po - pe) / (1 - pe)
                pairs.append(Pair(a: a, b: b, photos: common.count, agreed: agreed, rate: po, kappa: kappa))
            }
        }
        self.pairs = pairs
    }
}
