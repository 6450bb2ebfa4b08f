import ArgumentParser
import Catalog
import Foundation
import Glibc
import Wire

/// `o4octl`: calls every RPC of GateService, InboxService and PolicyService,
/// their runtime flags and health, and imports the catalog.
///
/// Exit status: 0 on success; 1 when a call answers an error status, a
/// service is unreachable, a file is unusable or a health check finds a
/// service not serving; 2 for usage errors (a bad flag or value); 3 when
/// `gate check --fail-on-deny` is denied.
@main
struct O4OCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "o4octl",
        abstract: "Call the seller-authorization and commission services by hand.",
        discussion: """
            Addresses: --address, else $O4O_GATE_ADDR / $O4O_INBOX_ADDR / $O4O_POLICY_ADDR, \
            else 127.0.0.1:7102 / 7103 / 7101.
            Credentials: --credential SECRET, else the --caller line of --credentials-file or \
            $WIRE_CREDENTIALS_FILE (caller:secret per line). Default callers: gate → checkout \
            (settlement for --stage settlement), inbox → supplier-portal, policy resolve/record → \
            settlement, policy admin, flags and health → operator (health needs no credential).
            Output: aligned text by default, --json for scripts.
            Exit status: 0 ok; 1 error status from a service (printed as "error: CODE: message" \
            on stderr), unreachable service, unusable file, or a service not serving; 2 usage error; \
            3 gate check --fail-on-deny denied.
            """,
        subcommands: [
            GateCommand.self, InboxCommand.self, PolicyCommand.self,
            FlagsCommand.self, HealthCommand.self, CatalogCommand.self,
        ]
    )

    /// Parses, runs, and maps failures to the documented exit statuses.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as RPCError {
            fail("\(error.code): \(error.message)")
        } catch let error as CLIError {
            fail(error.description)
        } catch let error as CatalogImportError {
            fail(error.description)
        } catch let error as ExitCode {
            exit(withError: error)
        } catch {
            switch exitCode(for: error) {
            case .validationFailure:
                // ArgumentParser's usage errors (EX_USAGE 64) exit with 2, as most CLIs do.
                let message = fullMessage(for: error)
                StandardError.write(message.hasPrefix("Error: ") ? "error: " + message.dropFirst(7) : message)
                Glibc.exit(2)
            case .success:
                exit(withError: error)  // --help and friends
            default:
                fail("\(error)")
            }
        }
    }

    private static func fail(_ message: String) -> Never {
        StandardError.write("error: \(message)")
        Glibc.exit(1)
    }
}

/// Standard error, for diagnostics (stdout carries only answers, so scripts can parse it).
enum StandardError {
    static func write(_ line: String) {
        let text = line.hasSuffix("\n") ? line : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
