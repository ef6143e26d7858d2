import BankHooksSandbox
import Foundation
import Testing

@Suite struct InstitutionAvailabilityTests {
    /// The stored document reads back as the availability it was written from.
    @Test func availabilityRoundTripsThroughItsStoredJSON() throws {
        var availability = InstitutionAvailability.allUp
        availability.bank.active.data = false
        availability.ibanVerification.accountType.business.noMatch = .disabled
        let stored = try JSONEncoder().encode(availability)
        #expect(try JSONDecoder().decode(InstitutionAvailability.self, from: stored) == availability)
        #expect(String(decoding: stored, as: UTF8.self).contains("\"iban_verification\""))
    }
}
