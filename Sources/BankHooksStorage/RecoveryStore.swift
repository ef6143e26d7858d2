import BankHooksCore

/// Recovery jobs: re-sending a webhook's failed deliveries of a time range.
public protocol RecoveryStore: Sendable {
    /// Creates a recovery job for the webhook, counting what it covers (failed deliveries last
    /// attempted before the job's `createdAt`); nil when there is no such webhook. At most one job
    /// per webhook runs: while one does, that one is returned with `created` false and nothing is created.
    func createRecovery(_ recovery: Recovery) async throws -> (recovery: Recovery, created: Bool)?
    func recovery(id: String, applicationID: String) async throws -> Recovery?
    /// Jobs still running, oldest first.
    func runningRecoveries() async throws -> [Recovery]
    /// The next failed deliveries a job covers, after its cursor, in id order.
    func nextRecoveryDeliveries(_ recovery: Recovery, limit: Int) async throws -> [Int64]
    /// Records a job's progress: the new cursor and counts; `finishedAt` completes it.
    func updateRecovery(_ recovery: Recovery) async throws
}
