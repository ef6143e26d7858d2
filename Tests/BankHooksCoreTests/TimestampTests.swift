import BankHooksCore
import Testing

@Suite struct TimestampTests {
    @Test func formatsISO8601WithMilliseconds() {
        #expect(Timestamp(milliseconds: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 1_630_597_134_573).iso8601 == "2021-09-02T15:38:54.573Z")
        #expect(Timestamp(milliseconds: 951_782_400_000).iso8601 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -1).iso8601 == "1969-12-31T23:59:59.999Z")
    }

    @Test func parsesRFC3339() {
        #expect(Timestamp(iso8601: "2021-09-02T15:38:54.573741Z")?.milliseconds == 1_630_597_134_573)
        #expect(Timestamp(iso8601: "2021-09-02T15:38:54Z")?.milliseconds == 1_630_597_134_000)
        #expect(Timestamp(iso8601: "2021-09-02T17:38:54.5+02:00")?.milliseconds == 1_630_597_134_500)
        #expect(Timestamp(iso8601: "2022-10-07T10:43:45.128593273Z")?.iso8601 == "2022-10-07T10:43:45.128Z")
        #expect(Timestamp(iso8601: "2021-09-02") == nil)
        #expect(Timestamp(iso8601: "2021-13-02T00:00:00Z") == nil)
        #expect(Timestamp(iso8601: "2021-09-02T15:38:54.Z") == nil)
        #expect(Timestamp(iso8601: "2021-09-02T15:38:54Zjunk") == nil)
    }

    @Test func roundTripsAcrossCenturies() {
        for ms in stride(from: Int64(-2_000_000_000_000), to: 5_000_000_000_000, by: 86_399_937_123) {
            #expect(Timestamp(iso8601: Timestamp(milliseconds: ms).iso8601)?.milliseconds == ms)
        }
    }

    /// RFC 3339 has four-digit years: an offset that moves a time outside 0000 to 9999 makes it
    /// a time that could not be written back, so it is refused.
    @Test func parsingRefusesTimesOutsideYearsZeroToNineThousandNineHundredNinetyNine() {
        #expect(Timestamp(iso8601: "0000-01-01T00:00:00Z") == Timestamp.earliestFormattable)
        #expect(Timestamp(iso8601: "9999-12-31T23:59:59.999Z") == Timestamp.latestFormattable)
        #expect(Timestamp(iso8601: "0000-01-01T00:00:00+00:01") == nil, "year -1")
        #expect(Timestamp(iso8601: "0000-01-01T00:00:00-00:01")?.iso8601 == "0000-01-01T00:01:00.000Z")
        #expect(Timestamp(iso8601: "9999-12-31T23:59:59-00:01") == nil, "year 10000")
        #expect(Timestamp(iso8601: "9999-12-31T23:59:60Z") == nil, "a leap second into year 10000")
        #expect(Timestamp(iso8601: "9999-12-31T23:59:59+23:59")?.iso8601 == "9999-12-31T00:00:59.000Z")
        #expect(Timestamp(iso8601: "10000-01-01T00:00:00Z") == nil)
        #expect(Timestamp(iso8601: "-0001-01-01T00:00:00Z") == nil)
    }

    /// No time formats with a year outside 0000 to 9999 (nor traps): the ends of that range stand in.
    @Test func formattingClampsToFourDigitYears() {
        #expect(Timestamp(milliseconds: .max).iso8601 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: .min).iso8601 == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 253_402_300_800_000).iso8601 == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: -62_167_219_200_001).iso8601 == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -62_167_219_200_000).iso8601 == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -62_135_596_800_000).iso8601 == "0001-01-01T00:00:00.000Z")
    }

    @Test func secondsRoundDown() {
        #expect(Timestamp(milliseconds: 1999).seconds == 1)
        #expect(Timestamp(milliseconds: -1).seconds == -1)
    }
}

@Suite struct IdentifierTests {
    @Test func isPrefixedTimeOrderedBase32() {
        let early = Identifier.make("evt", at: Timestamp(milliseconds: 1_700_000_000_000))
        let late = Identifier.make("evt", at: Timestamp(milliseconds: 1_700_000_000_001))
        #expect(early.hasPrefix("evt_"))
        #expect(early.count == 30)
        #expect(early.dropFirst(4).allSatisfy { "0123456789abcdefghjkmnpqrstvwxyz".contains($0) })
        #expect(early < late)
        #expect(Identifier.make("evt", at: Timestamp(milliseconds: 5)) != Identifier.make("evt", at: Timestamp(milliseconds: 5)))
    }

    @Test func acceptsOnlyPrintableClientValues() {
        #expect(Identifier.isAcceptableClientValue("f8752072-cef2-4056-9ff0-d5d2aa1e4558"))
        #expect(!Identifier.isAcceptableClientValue(""))
        #expect(!Identifier.isAcceptableClientValue("has space"))
        #expect(!Identifier.isAcceptableClientValue(Substring(String(repeating: "a", count: 256))))
        #expect(!Identifier.isAcceptableClientValue("é"))
    }
}

@Suite struct ManualClockTests {
    @Test func sleepersWakeWhenTimePassesTheirDeadline() async throws {
        let clock = ManualClock()
        let deadline = clock.now().adding(.seconds(5))
        let task = Task { try await clock.sleep(until: deadline); return clock.now() }
        while clock.sleeperCount == 0 { await Task.yield() }
        clock.advance(by: .seconds(4))
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(1))
        let wokeAt = try await task.value
        #expect(wokeAt == deadline)
    }

    @Test func cancellingASleeperEndsIt() async {
        let clock = ManualClock()
        let task = Task { try await clock.sleep(until: clock.now().adding(.seconds(60))) }
        while clock.sleeperCount == 0 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.sleeperCount == 0)
    }
}
