/// The loopback port of each service; 0 means any free port (read back after binding).
public struct ShopPorts: Sendable, Equatable {
    public var ports: [ShopService: Int]

    public init(_ ports: [ShopService: Int] = [:]) { self.ports = ports }

    /// Any free port for every service: what tests and parallel runs want.
    public static let automatic = ShopPorts()

    /// 8081 … 8085, the ports in `workflows/order-payment.yaml`'s default URLs.
    public static let workflowDefaults = ShopPorts(
        Dictionary(uniqueKeysWithValues: ShopService.allCases.map { ($0, $0.workflowDefaultPort) }))

    public subscript(service: ShopService) -> Int {
        get { ports[service] ?? 0 }
        set { ports[service] = newValue }
    }
}
