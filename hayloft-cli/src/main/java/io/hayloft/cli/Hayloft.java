package io.hayloft.cli;

import io.hayloft.cli.bench.BenchCommand;
import io.hayloft.cli.cluster.HealthCommand;
import io.hayloft.cli.cluster.StatsCommand;
import io.hayloft.cli.cluster.StatusCommand;
import io.hayloft.cli.role.GatewayRoleCommand;
import io.hayloft.cli.role.KafkaBridgeRoleCommand;
import io.hayloft.cli.role.MetaRoleCommand;
import io.hayloft.cli.role.StoreRoleCommand;
import io.hayloft.cli.s3.GetCommand;
import io.hayloft.cli.s3.LsCommand;
import io.hayloft.cli.s3.MbCommand;
import io.hayloft.cli.s3.PutCommand;
import io.hayloft.cli.s3.RbCommand;
import io.hayloft.cli.s3.RmCommand;
import io.hayloft.cli.s3.StatCommand;
import io.hayloft.cli.server.ServerCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * The {@code hayloft} command: runs the server and its roles, and is the client of a running
 * cluster (objects over S3, cluster state over the meta protocol).
 *
 * <p>Every failure ends in one line on standard error and an exit code from {@link Exit}; with
 * {@code --verbose} the stack trace follows.
 */
@Command(name = "hayloft", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT, versionProvider = Version.class,
        description = "Hayloft, a distributed blob and object store.",
        subcommands = {
            ServerCommand.class, MetaRoleCommand.class, StoreRoleCommand.class, GatewayRoleCommand.class,
            KafkaBridgeRoleCommand.class,
            PutCommand.class, GetCommand.class, RmCommand.class, LsCommand.class, StatCommand.class,
            MbCommand.class, RbCommand.class,
            StatusCommand.class, HealthCommand.class, StatsCommand.class,
            BenchCommand.class, CommandLine.HelpCommand.class})
public final class Hayloft {
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "On failure, print the stack trace too.")
    boolean verbose;

    public static void main(String[] args) {
        // Helidon and gRPC log through java.util.logging, at INFO by default: warnings are enough here.
        java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        System.exit(commandLine().execute(args));
    }

    /** The command line with Hayloft's error handling, for {@link #main} and for tests. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Hayloft());
        cl.getCommandSpec().usageMessage().footer(Exit.footer());
        cl.setExecutionExceptionHandler(Hayloft::onFailure);
        return cl;
    }

    private static int onFailure(Exception e, CommandLine failed, ParseResult parsed) {
        CliException c = Failures.of(e);
        failed.getErr().println(failed.getCommandName() + ": " + c.getMessage());
        if (verbose(parsed)) {
            e.printStackTrace(failed.getErr());
        }
        failed.getErr().flush();
        return c.exitCode();
    }

    private static boolean verbose(ParseResult parsed) {
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
