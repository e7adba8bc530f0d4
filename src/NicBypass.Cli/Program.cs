return NicBypass.Cli.NicBypassCli.Run(args, Console.Out, Console.Error);
