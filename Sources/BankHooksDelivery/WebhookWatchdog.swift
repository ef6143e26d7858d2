import BankHooksCore
import BankHooksStorage
import BankHooksVerify
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Disables webhooks whose deliveries have failed without a single success for the auto-disable
/// period (5 days by default), and announces every webhook BankHooks disabled (failing, or 410
/// Gone) with a `webhook.disabled` event published to its application. Runs at start, then every
/// `interval` on the clock (an injected clock drives it in tests). With several nodes on one
/// database only the node leading `LeaderJob.watchdog` looks (a look is idempotent: the event's id
/// comes from the disable, so a short overlap of two leaders publishes it once).
public final class WebhookWatchdog: Service {
    public struct Configuration: Sendable {
        /// How long a webhook may fail without a success before it is disabled.
        public var autoDisableAfter: Duration = .seconds(5 * 24 * 3600)
        /// How often to look.
        public var interval: Duration = .seconds(60)

        public init() {}
    }

    let store: any WebhookStore
    let events: EventService
    let clock: any WallClock
    let configuration: Configuration
    let logger: Logger
    /// Told of each webhook it disabled, after the disable is committed (the dispatcher drops what it queued for it).
    let onDisable: @Sendable (String) -> Void
    /// Who leads the watchdog.
    let coordination: any NodeCoordination
    private let wakeSignal = Signal()

    public init(
        store: any WebhookStore, events: EventService, clock: any WallClock, configuration: Configuration = .init(), logger: Logger,
        coordination: any NodeCoordination = SoleNode(), onDisable: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.onDisable = onDisable
        self.coordination = coordination
        self.store = store
        self.events = events
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
    }

    /// Looks again now (e.g. after a webhook was disabled).
    public func wake() { wakeSignal.signal() }

    public func run() async throws {
        // Stopping cancels a look in progress: the next one (here or on the next leader) redoes it.
        await cancelWhenGracefulShutdown {
            await self.coordination.lead(.watchdog) { await self.watch() }
        }
    }

    /// Looks at once, then every `interval` or when woken, until cancelled.
    private func watch() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [clock, configuration, wakeSignal] in
                while !Task.isCancelled {
                    do { try await clock.sleep(until: clock.now().adding(configuration.interval)) } catch { return }
                    wakeSignal.signal()
                }
            }
            while !Task.isCancelled {
                await sweep()
                await wakeSignal.wait()
            }
            group.cancelAll()
        }
    }

    /// One look: disable what has failed too long, then announce every unannounced disable.
    public func sweep() async {
        let now = clock.now()
        do {
            let disabled = try await store.disableFailingWebhooks(failingSince: now.adding(.zero - configuration.autoDisableAfter), now: now)
            if !disabled.isEmpty { logger.notice("disabled webhooks failing without a success", metadata: ["count": "\(disabled.count)"]) }
            for id in disabled { onDisable(id) }
            for disabled in try await store.unannouncedDisabledWebhooks() {
                try await announce(disabled)
            }
        } catch {
            if Task.isCancelled { return }
            logger.error("the webhook watchdog failed; it tries again at its next look", metadata: ["error": "\(error)"])
        }
    }

    /// Publishes `webhook.disabled` with an id derived from the disable, so a repeat after a crash
    /// between publish and mark is an idempotent replay, not a second event.
    func announce(_ disabled: DisabledWebhook) async throws {
        let webhook = disabled.webhook
        let gone = webhook.disabledReason.flatMap(DisableReason.init(rawValue:)) == .gone
        let event = WebhookDisabled(
            webhookID: webhook.id, url: webhook.url, reason: gone ? .gone : .failing,
            failingSince: gone ? nil : disabled.failingSince?.iso8601)
        _ = try await events.publish(
            event, as: "webhook.disabled", applicationID: webhook.applicationID,
            id: "evt_disabled_\(webhook.id)_\(disabled.disabledAt.milliseconds)", timestamp: disabled.disabledAt)
        try await store.markDisableAnnounced(webhookID: webhook.id, disabledAt: disabled.disabledAt)
        logger.notice("webhook disabled", metadata: ["webhook.id": "\(webhook.id)", "reason": "\(webhook.disabledReason ?? "-")"])
    }
}
