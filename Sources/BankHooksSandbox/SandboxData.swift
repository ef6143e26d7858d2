import Crypto
import Synchronization

/// One account of a sandbox user, as `GET /v1/sandbox/accounts` answers it. Amounts are decimal
/// strings (two places) so that no binary fraction ever shows.
public struct SandboxAccount: Hashable, Sendable, Codable {
    /// A UUID, the same for the same login and position every time.
    public var id: String
    public var name: String
    /// `CURRENT`, `SAVINGS` or `CREDIT_CARD`.
    public var type: String
    /// ISO 4217.
    public var currency: String
    /// A valid (mod-97) UAE IBAN.
    public var iban: String
    /// The balance at `SandboxData.statementEnd`: the opening balance plus every transaction.
    public var balance: String

    public init(id: String, name: String, type: String, currency: String, iban: String, balance: String) {
        self.id = id
        self.name = name
        self.type = type
        self.currency = currency
        self.iban = iban
        self.balance = balance
    }
}

/// One booked transaction of a sandbox account: negative amounts leave the account.
public struct SandboxTransaction: Hashable, Sendable, Codable {
    public var id: String
    public var accountID: String
    /// ISO 8601 date (`YYYY-MM-DD`).
    public var bookedAt: String
    /// Decimal string with two places, negative for a debit.
    public var amount: String
    public var currency: String
    public var description: String

    public init(id: String, accountID: String, bookedAt: String, amount: String, currency: String, description: String) {
        self.id = id
        self.accountID = accountID
        self.bookedAt = bookedAt
        self.amount = amount
        self.currency = currency
        self.description = description
    }

    enum CodingKeys: String, CodingKey {
        case id
        case accountID = "account_id"
        case bookedAt = "booked_at"
        case amount
        case currency
        case description
    }
}

/// The sandbox users' bank data: deterministic, seeded by the login (trimmed, case-insensitive),
/// so the same login always has the same accounts, balances and transactions, on every
/// installation. Transactions cover the `historyDays` days up to `statementEnd`.
public enum SandboxData {
    /// The last day of every sandbox statement (fixed, so the data never changes with the date).
    public static let statementEnd = "2025-12-31"
    /// How many days of history each account has.
    public static let historyDays = 90
    /// The window of Okra's initial transaction pull ("the default pull is 30 days", seed 002).
    public static let initialPullDays = 30

    /// The login's accounts (one to three), the current account first.
    public static func accounts(login: String) -> [SandboxAccount] {
        profile(login: login).generated.map(\.account)
    }

    /// One account's transactions, newest first; empty for an account the login does not have.
    public static func transactions(login: String, accountID: String) -> [SandboxTransaction] {
        profile(login: login).generated.first { $0.account.id == accountID }?.transactions ?? []
    }

    /// How many of the login's transactions (all accounts) fall in the last `initialPullDays` days,
    /// and how many in all: Okra's `INITIAL_TRANSACTIONS` and `FULL_TRANSACTIONS` counts.
    public static func transactionCounts(login: String) -> (initial: Int, total: Int) {
        let data = profile(login: login)
        return (data.initialCount, data.totalCount)
    }

    /// A login's whole data set and its counts, generated once and kept in a bounded cache: the
    /// data is a pure function of the login, and the redirect (`LinkEmissions.linked`) and the
    /// data reads ask for the same few logins again and again.
    struct Profile: Sendable {
        fileprivate var generated: [Generated]
        /// Transactions in the last `initialPullDays` days, all accounts.
        var initialCount: Int
        /// Transactions in all, all accounts.
        var totalCount: Int

        var accounts: [SandboxAccount] { generated.map(\.account) }
    }

    /// How many logins' data the cache keeps (the oldest goes first).
    static let cacheCapacity = 64

    private struct Cache {
        var profiles: [String: Profile] = [:]
        /// Keys in insertion order, oldest first.
        var order: [String] = []
    }

    private static let cache = Mutex(Cache())

    /// The login's profile, from the cache when it holds it.
    static func profile(login: String) -> Profile {
        let normalized = login.trimmingWhitespace().lowercased()
        if let cached = cache.withLock({ $0.profiles[normalized] }) { return cached }
        let generated = generate(normalized: normalized)
        let cutoff = endDay - initialPullDays + 1
        var initial = 0
        var total = 0
        for account in generated {
            total += account.transactions.count
            initial += account.days.lazy.filter { $0 >= cutoff }.count
        }
        let profile = Profile(generated: generated, initialCount: initial, totalCount: total)
        cache.withLock { c in
            guard c.profiles[normalized] == nil else { return }
            if c.order.count >= cacheCapacity { c.profiles[c.order.removeFirst()] = nil }
            c.profiles[normalized] = profile
            c.order.append(normalized)
        }
        return profile
    }

    /// How many logins the cache holds now (tests check its bound).
    static var cachedCount: Int { cache.withLock { $0.profiles.count } }

    /// The login's data generated afresh, without the cache (tests compare it with the cached one).
    static func uncachedAccounts(login: String) -> [(account: SandboxAccount, transactions: [SandboxTransaction])] {
        generate(normalized: login.trimmingWhitespace().lowercased()).map { ($0.account, $0.transactions) }
    }

    // MARK: Generation

    /// `statementEnd` as days since 1970-01-01.
    static let endDay = CivilDate.days(year: 2025, month: 12, day: 31)

    fileprivate struct Generated: Sendable {
        var account: SandboxAccount
        var transactions: [SandboxTransaction]
        /// Each transaction's day (days since the epoch), in `transactions`' order.
        var days: [Int]
    }

    private struct Kind {
        var type: String
        var name: String
        var openingCents: ClosedRange<Int64>
    }

    private static let kinds = [
        Kind(type: "CURRENT", name: "Current Account", openingCents: 200_000...2_500_000),
        Kind(type: "SAVINGS", name: "Savings Account", openingCents: 1_000_000...15_000_000),
        Kind(type: "CREDIT_CARD", name: "Credit Card", openingCents: -300_000...0),
    ]

    /// Card and current-account spending: (description, smallest and largest amount in cents).
    private static let merchants: [(String, ClosedRange<Int64>)] = [
        ("Carrefour Mall of the Emirates", 4_500...65_000), ("Spinneys", 2_000...30_000), ("ENOC fuel", 8_000...25_000),
        ("Careem ride", 1_500...9_000), ("Talabat order", 3_500...18_000), ("Noon.com", 5_000...120_000),
        ("DEWA utility bill", 30_000...95_000), ("du mobile", 12_500...35_000), ("Salik top-up", 5_000...20_000),
        ("Starbucks", 1_800...4_500), ("VOX Cinemas", 4_000...16_000), ("Amazon.ae", 3_000...90_000),
        ("IKEA Festival City", 15_000...250_000), ("Emirates NBD ATM withdrawal", 20_000...100_000),
    ]

    private static func generate(normalized: String) -> [Generated] {
        var rng = SplitMix64(seed: DerivedID.seed("bankhooks sandbox data v1", normalized))
        let accountCount = 1 + Int(rng.next() % 3)
        return (0..<accountCount).map { index in
            account(kind: kinds[index], index: index, login: normalized, rng: &rng)
        }
    }

    private static func account(kind: Kind, index: Int, login: String, rng: inout SplitMix64) -> Generated {
        let id = DerivedID.uuid("account", login, String(index))
        var entries: [(day: Int, cents: Int64, description: String)] = []
        let firstDay = endDay - historyDays + 1
        // Monthly entries on fixed days of the month, then spending on random days.
        for monthStart in CivilDate.monthStarts(from: firstDay, through: endDay) {
            switch kind.type {
            case "CURRENT":
                entries.append((monthStart + 24, 1_850_000 + Int64(rng.next() % 5) * 25_000, "Salary ACME Trading LLC"))
                entries.append((monthStart, -(650_000 + Int64(rng.next() % 4) * 50_000), "Rent standing order"))
            case "SAVINGS":
                entries.append((monthStart + 25, 250_000, "Transfer from current account"))
                entries.append((monthStart + 27, Int64(500 + rng.next() % 4_000), "Interest"))
            default:
                entries.append((monthStart + 20, 150_000 + Int64(rng.next() % 10) * 10_000, "Card payment, thank you"))
            }
        }
        let spending = kind.type == "SAVINGS" ? Int(rng.next() % 3) : 20 + Int(rng.next() % 40)
        for _ in 0..<spending {
            let (description, range) = merchants[Int(rng.next() % UInt64(merchants.count))]
            let cents = range.lowerBound + Int64(rng.next() % UInt64(range.upperBound - range.lowerBound + 1))
            let text = kind.type == "SAVINGS" ? "Transfer to current account" : description
            entries.append((firstDay + Int(rng.next() % UInt64(historyDays)), -cents, text))
        }
        entries = entries.filter { $0.day >= firstDay && $0.day <= endDay }
        // Newest first; within a day, in the order they were made (stable).
        let ordered = entries.enumerated().sorted { ($0.element.day, $1.offset) > ($1.element.day, $0.offset) }.map(\.element)
        let span = kind.openingCents.upperBound - kind.openingCents.lowerBound
        let opening = kind.openingCents.lowerBound + Int64(rng.next() % UInt64(span + 1))
        let balance = opening + ordered.reduce(0) { $0 + $1.cents }
        let currency = "AED"
        // Transaction ids: one digest per account, then a SplitMix64 stream (no SHA-256 per id).
        var ids = SplitMix64(seed: DerivedID.seed("transactions v2", id))
        let transactions = ordered.map { entry in
            SandboxTransaction(
                id: DerivedID.uuid(using: &ids), accountID: id, bookedAt: CivilDate.iso(day: entry.day),
                amount: Money.text(cents: entry.cents), currency: currency, description: entry.description)
        }
        let account = SandboxAccount(
            id: id, name: kind.name, type: kind.type, currency: currency, iban: IBAN.uae(login: login, index: index),
            balance: Money.text(cents: balance))
        return Generated(account: account, transactions: transactions, days: ordered.map(\.day))
    }
}

// MARK: - Helpers (deterministic ids, money, dates, IBANs)

/// Identifiers derived from text: the same inputs give the same id on every installation.
enum DerivedID {
    static func digest(_ parts: [String]) -> [UInt8] {
        Array(SHA256.hash(data: Array(parts.joined(separator: "\u{1F}").utf8)))
    }

    /// A 64-bit seed from the parts.
    static func seed(_ parts: String...) -> UInt64 {
        digest(parts).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A UUID shaped as version 4 (variant 10), lower case, from the parts.
    static func uuid(_ parts: String...) -> String { uuid(bytes: digest(parts)) }

    static func uuid(bytes digest: [UInt8]) -> String {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(digest[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(digest[index]) }
        return uuid(high: high, low: low)
    }

    /// A UUID shaped as version 4 from the next 128 bits of `rng` (deterministic for a seeded one).
    static func uuid(using rng: inout some RandomNumberGenerator) -> String {
        let high = rng.next() as UInt64
        return uuid(high: high, low: rng.next())
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The 128 bits as `8-4-4-4-12` lower-case hex, with the version (4) and variant (10) bits set.
    static func uuid(high: UInt64, low: UInt64) -> String {
        let high = (high & ~0xF000) | 0x4000
        let low = (low & ~(0xC << 60)) | (0x8 << 60)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for nibble in 0..<32 {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 { out.append(UInt8(ascii: "-")) }
            let word = nibble < 16 ? high : low
            let shift = UInt64(60 - 4 * (nibble % 16))
            out.append(hexDigits[Int((word >> shift) & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A random UUID v4, lower case.
    static func randomUUID() -> String {
        var rng = SystemRandomNumberGenerator()
        return uuid(bytes: (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// A positive integer below 2^47 from the parts (Bridge's numeric ids).
    static func positiveInt(_ parts: String...) -> Int {
        Int(digest(parts).prefix(6).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } >> 1) + 1
    }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Amounts as decimal text.
enum Money {
    /// `-1234.50` for -123450 cents.
    static func text(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        return "\(sign)\(magnitude / 100).\(String(magnitude % 100).leftPadded(to: 2))"
    }
}

/// Proleptic Gregorian dates as days since 1970-01-01 (Howard Hinnant's algorithms).
enum CivilDate {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(day: Int) -> (year: Int, month: Int, day: Int) {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func iso(day: Int) -> String {
        let (y, m, d) = civil(day: day)
        return "\(String(y).leftPadded(to: 4))-\(String(m).leftPadded(to: 2))-\(String(d).leftPadded(to: 2))"
    }

    /// The first day of every month that overlaps `first...last`.
    static func monthStarts(from first: Int, through last: Int) -> [Int] {
        var (year, month, _) = civil(day: first)
        var starts: [Int] = []
        while true {
            let start = days(year: year, month: month, day: 1)
            if start > last { break }
            starts.append(start)
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
        return starts
    }
}

/// IBANs with correct ISO 13616 check digits.
enum IBAN {
    /// `AE` + check digits + bank code `033` + 16 account digits derived from the login.
    static func uae(login: String, index: Int) -> String {
        var rng = SplitMix64(seed: DerivedID.seed("iban", login, String(index)))
        let account = (0..<16).map { _ in String(rng.next() % 10) }.joined()
        return make(country: "AE", bban: "033" + account)
    }

    static func make(country: String, bban: String) -> String {
        let check = 98 - mod97(bban + country + "00")
        return country + String(check).leftPadded(to: 2) + bban
    }

    /// Whether `text` (spaces allowed) is an IBAN whose check digits hold: 15 to 34 characters,
    /// two letters, two digits, then letters or digits.
    static func isValid(_ text: String) -> Bool {
        let compact = text.filter { $0 != " " }.uppercased()
        let chars = Array(compact)
        guard (15...34).contains(chars.count), chars[0].isASCIILetter, chars[1].isASCIILetter,
              chars[2].isASCIIDigit, chars[3].isASCIIDigit, chars.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit })
        else { return false }
        return mod97(String(chars[4...]) + String(chars[0..<4])) == 1
    }

    /// The remainder mod 97 of the number a text writes, letters as 10 to 35.
    static func mod97(_ text: String) -> Int {
        var remainder = 0
        for char in text.uppercased() {
            let value: Int
            if let digit = char.wholeNumberValue, char.isASCII { value = digit } else { value = Int(char.asciiValue ?? 55) - 55 }
            remainder = (value >= 10 ? remainder * 100 : remainder * 10) + value
            remainder %= 97
        }
        return remainder
    }
}

extension Character {
    fileprivate var isASCIILetter: Bool { isASCII && isLetter }
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { SandboxText.padded(self, to: width) }
    fileprivate func trimmingWhitespace() -> String { SandboxText.trimmed(self) }
}

/// Small text helpers of the sandbox's generated data.
enum SandboxText {
    /// `text` with leading zeros up to `width` characters.
    static func padded(_ text: String, to width: Int) -> String {
        text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    /// `text` without leading and trailing whitespace.
    static func trimmed(_ text: String) -> String {
        var rest = Substring(text)
        while let first = rest.first, first.isWhitespace { rest = rest.dropFirst() }
        while let last = rest.last, last.isWhitespace { rest = rest.dropLast() }
        return String(rest)
    }
}
