/// Scenarios of the three services (gate, policy, inbox). Each service's
/// scenarios live in their own file and are listed here.
enum ServiceScenarios {
    static let all: [Scenario] = PolicyScenarios.all
}
