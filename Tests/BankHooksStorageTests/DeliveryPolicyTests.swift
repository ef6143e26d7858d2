import BankHooksCore
import Testing

/// The backend-neutral rules every store applies (Sources/BankHooksCore/DeliveryPolicy.swift).
@Suite struct DeliveryPolicyTests {
    let t0 = Timestamp(milliseconds: 1_700_000_000_000)

    @Test func storedStatesKeepTheirSchemaCodesAndHeldShowsAsPending() {
        #expect(StoredDeliveryState.allCases.map(\.rawValue) == [0, 1, 2, 3, 4], "the codes are fixed by the migrations")
        #expect(StoredDeliveryState.held.state == .pending)
        #expect(StoredDeliveryState.allCases.filter { $0 != .held }.map(\.state) == [.pending, .succeeded, .failed, .cancelled])
        #expect(StoredDeliveryState(code: 4) == .held && StoredDeliveryState(code: 99) == .pending)
        #expect(StoredDeliveryState.covering(.pending) == [.pending, .held])
        for state in DeliveryState.allCases {
            #expect(StoredDeliveryState.covering(state).allSatisfy { $0.state == state })
        }
    }

    @Test func aDeliveryGoingBackToWaitIsHeldWhileItsWebhookIsDisabled() {
        #expect(DeliveryPolicy.waitingState(.pending, webhookEnabled: false) == .held)
        #expect(DeliveryPolicy.waitingState(.pending, webhookEnabled: true) == .pending)
        #expect(DeliveryPolicy.waitingState(.succeeded, webhookEnabled: false) == .succeeded, "a finished delivery is never held")
        #expect(DeliveryPolicy.waitingState(.failed, webhookEnabled: false) == .failed)
        #expect(DeliveryPolicy.stateOnEnable == .pending)
    }

    @Test func aDisableHoldsPendingDeliveriesExceptOnesBeingSent() {
        #expect(DeliveryPolicy.disableHolds(.pending, isLeased: false, leaseExpired: false))
        #expect(!DeliveryPolicy.disableHolds(.pending, isLeased: true, leaseExpired: false), "in flight: its record holds it")
        #expect(DeliveryPolicy.disableHolds(.pending, isLeased: true, leaseExpired: true), "an expired lease is nobody's send")
        #expect(!DeliveryPolicy.disableHolds(.failed, isLeased: false, leaseExpired: false))
        #expect(!DeliveryPolicy.disableHolds(.held, isLeased: false, leaseExpired: false))
    }

    @Test func onlyBankHooksOwnDisablesAreAnnounced() {
        #expect(!DisableReason.manual.isAnnounced)
        #expect(DisableReason.failing.isAnnounced && DisableReason.gone.isAnnounced)
        #expect(DisableReason.allCases.map(\.rawValue) == ["manual", "failing", "gone"], "the stored and announced reason names")
    }

    func subscriber(_ id: String, enabled: Bool = true, types: Set<String>? = nil, format: String = "standard") -> FanOut.Subscriber {
        FanOut.Subscriber(id: id, isEnabled: enabled, eventTypes: types, format: format)
    }

    @Test func fanOutReachesEnabledSubscribersInAFormatThatCarriesTheType() {
        let plain = FanOut(type: "payment.updated")
        #expect(plain.reaches(subscriber("all")))
        #expect(plain.reaches(subscriber("named", types: ["payment.updated"])))
        #expect(!plain.reaches(subscriber("other", types: ["entity.created"])))
        #expect(!plain.reaches(subscriber("off", enabled: false)), "a disabled webhook gets nothing")
        let family = FanOut(type: "payment.updated", formats: ["standard"])
        #expect(family.reaches(subscriber("std")))
        #expect(!family.reaches(subscriber("okra", format: "okra")), "its format cannot carry the type")
        #expect(!family.reaches(subscriber("okra-named", types: ["payment.updated"], format: "okra")))
        let explicit = FanOut(type: "bank_link.result", explicitOnly: true)
        #expect(!explicit.reaches(subscriber("all")), "an every-type subscription does not get an explicit-only type")
        #expect(explicit.reaches(subscriber("named", types: ["bank_link.result"])))
    }

    @Test func aPublishForOneWebhookReachesItAloneWhateverItSubscribesTo() {
        let only = FanOut(type: "webhook.test", formats: ["standard"], explicitOnly: true, onlyWebhookID: "wh_2")
        #expect(only.reaches(subscriber("wh_2", types: ["entity.created"], format: "okra")))
        #expect(!only.reaches(subscriber("wh_1")))
        #expect(!only.reaches(subscriber("wh_2", enabled: false)), "not even to itself while it is disabled")
    }

    @Test func aBatchChangesEachWebhooksStreakByItsLastOutcome() {
        var streaks = FailingStreaks()
        streaks.note(webhookID: "a", succeeded: false, at: t0)
        streaks.note(webhookID: "a", succeeded: true, at: t0.adding(.seconds(1)))
        streaks.note(webhookID: "b", succeeded: true, at: t0)
        streaks.note(webhookID: "b", succeeded: false, at: t0.adding(.seconds(2)))
        #expect(streaks.changes == ["a": .cleared, "b": .failing(since: t0.adding(.seconds(2)))])
        #expect(FailingStreaks().changes.isEmpty)
    }

    @Test func aNewURLOrEnablingAgainStartsTheStreakOver() {
        #expect(FailingStreaks.startsOver(urlChanged: true, enabledAgain: false))
        #expect(FailingStreaks.startsOver(urlChanged: false, enabledAgain: true))
        #expect(!FailingStreaks.startsOver(urlChanged: false, enabledAgain: false))
    }
}
