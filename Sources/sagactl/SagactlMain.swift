import Foundation
import SagaCLI

@main
enum SagactlMain {
    static func main() async {
        let code = await SagaCommand.runMain()
        exit(code)
    }
}
