// Package watchdog guards appends that run under a hard deadline, such as an
// AWS Lambda invocation, which ends with SIGKILL at its timeout and gives no
// warning besides ctx.Deadline().
//
// A Watchdog lives as long as the process (one per Lambda execution
// environment) and measures how long this process's commits and rollbacks
// take. Arm guards one append:
//
//	ctx, arm := wd.Arm(ctx, deadline, table.URI(), "delta")
//	defer arm.Disarm()
//	res, err := table.AppendFiles(ctx, inputs, safewrite.AppendOptions{Deadline: deadline, Guard: arm})
//
// # State machine of one armed append
//
//	staging --fire--> fired (ctx cancelled; commit's abort deletes the staged
//	   |                     objects and records outcome "rolled-back", reason "deadline")
//	   `--BeginCommit--> committing --EndCommit--> done
//	                        `--reserve reached--> unknown-outcome alert; nothing deleted
//
// The watchdog fires at deadline minus the margin. The margin is the larger
// of Options.Floor and SafetyFactor times the sum of the slowest recent
// commit and rollback of this process. The same figure is the point-of-no-
// return reserve that commit.Writer.Append checks before it starts a commit,
// so an append never starts a commit that the watchdog would not let finish.
//
// The watchdog never deletes anything itself. Rollback is commit's abort,
// and a commit whose outcome is still open when the reserve before the
// deadline is reached is left to recovery (invariant I3 of package commit),
// after one alert event.
//
// EMFHandler turns commit events into CloudWatch Embedded Metric Format
// lines for commit.Options.OnEvent and safewrite.Options.OnEvent.
package watchdog
