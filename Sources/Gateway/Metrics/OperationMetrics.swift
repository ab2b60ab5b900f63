import GraphQL
import Metrics
import NIOConcurrencyHelpers

/// GraphQL operations by name. Names come from clients, so only the first few hundred distinct
/// well-formed names get series of their own; the rest share `other`, keeping the scrape bounded.
struct OperationMetrics: Sendable {
    let factory: any MetricsFactory
    private let known = NIOLockedValueBox(Set<String>())
    static let maxNames = 200

    /// Subscription events executed once for every subscriber of a viewer-independent document.
    let sharedExecutions: Counter
    /// Subscription events executed for one subscriber (the selection reads the viewer).
    let viewerExecutions: Counter
    /// Subscription results handed to a subscriber from another's shared execution.
    let reusedResults: Counter

    init(factory: any MetricsFactory) {
        self.factory = factory
        let executions = "messagerie_graphql_subscription_executions_total"
        sharedExecutions = Counter(label: executions, dimensions: [("mode", "shared")], factory: factory)
        viewerExecutions = Counter(label: executions, dimensions: [("mode", "per_viewer")], factory: factory)
        reusedResults = Counter(label: "messagerie_graphql_subscription_shared_results_total", factory: factory)
    }

    func record(_ operation: OperationDefinition, errors: Int, since start: ContinuousClock.Instant) {
        let name = label(for: operation.name?.value)
        let kind = operation.operation.rawValue
        Counter(
            label: "messagerie_graphql_operations_total",
            dimensions: [("operation", name), ("type", kind), ("outcome", errors == 0 ? "ok" : "error")], factory: factory
        ).increment()
        Timer(label: "messagerie_graphql_operation_duration_seconds", dimensions: [("operation", name), ("type", kind)], factory: factory)
            .recordInterval(since: start)
    }

    func label(for name: String?) -> String {
        guard let name else { return "anonymous" }
        guard name.count <= 64 else { return "other" }
        return known.withLockedValue { known in
            if known.contains(name) { return name }
            guard known.count < Self.maxNames else { return "other" }
            known.insert(name)
            return name
        }
    }
}
