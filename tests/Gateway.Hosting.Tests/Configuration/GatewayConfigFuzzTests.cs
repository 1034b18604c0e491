using System.Diagnostics;
using System.Text;
using Gateway.Hosting.Configuration;

namespace Gateway.Hosting.Tests.Configuration;

/// <summary>
/// Seeded random mutations of a valid <c>gateway.yml</c>: the parser either accepts a file or lists errors. It never
/// throws, and never takes more than a second on one file. A failure prints the seed and the file.
/// </summary>
public sealed class GatewayConfigFuzzTests
{
    private const int Files = 1500;

    /// <summary>A valid file to mutate: the parser tests' example of every section.</summary>
    private const string Valid = GatewayConfigParserTests.ContractExample;

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", ":", ",", "-", "? ", "&a", "*a", "!!str", "!!map", "|", ">", "'", "\"", "#", "\t", "\n", "  ",
        "~", "null", "off", "true", "-1", "0", "1e309", "NaN", "99999999999999999999999999999h", "18446744073709551616",
        "0.0000001ms", "1d", "::", "/{**x}", "/{x:int}", "/{", "http://", "ftp://x", "300.1.1.1/8", "[a, b]", "{a: b}",
        "routes", "upstreams", "session", "ratelimit", "id", "path", "upstream", "\u00a0", "\ufeff", "\u0000", "%", "@", "`",
    ];

    [Fact]
    public void Parse_SeededMutations_AcceptOrErrorNeverThrowWithinASecond()
    {
        var lines = Valid.Split('\n');
        var accepted = 0;
        for (var seed = 0; seed < Files; seed++)
        {
            var random = new Random(seed);
            var yaml = Mutate(lines, random);
            var watch = Stopwatch.StartNew();
            GatewayConfigParseResult result;
            try
            {
                result = GatewayConfigParser.Parse(yaml);
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed} threw {ex.GetType().Name}: {ex.Message}\n--- file ---\n{Shorten(yaml)}");
                return;
            }

            watch.Stop();
            var elapsed = watch.Elapsed;
            if (elapsed >= TimeSpan.FromSeconds(1))
            {
                // A busy machine can stall any one call (GC, the other tests, the scheduler): the parser's own cost is
                // the faster of two tries.
                watch.Restart();
                GatewayConfigParser.Parse(yaml);
                elapsed = TimeSpan.FromTicks(Math.Min(elapsed.Ticks, watch.Elapsed.Ticks));
            }

            // Messages are built only on failure.
            if (elapsed >= TimeSpan.FromSeconds(1))
            {
                Assert.Fail($"seed {seed} took {elapsed}\n--- file ---\n{Shorten(yaml)}");
            }

            if (result.IsValid == (result.Errors.Count > 0))
            {
                Assert.Fail($"seed {seed}: a result is a config or errors, not both or neither");
            }

            accepted += result.IsValid ? 1 : 0;
        }

        // The mutations are meant to break files; some still parse (a comment, a swapped equivalent), most do not.
        Assert.InRange(accepted, 1, Files - 1);
    }

    private static string Mutate(string[] lines, Random random)
    {
        var list = lines.ToList();
        var mutations = random.Next(1, 4);
        for (var m = 0; m < mutations; m++)
        {
            var at = random.Next(list.Count);
            switch (random.Next(9))
            {
                case 0: // cut a line short
                    list[at] = list[at][..random.Next(list[at].Length + 1)];
                    break;
                case 1: // duplicate a run of lines
                    var count = random.Next(1, 6);
                    list.InsertRange(at, list.Skip(at).Take(count).ToList());
                    break;
                case 2: // swap two lines
                    var other = random.Next(list.Count);
                    (list[at], list[other]) = (list[other], list[at]);
                    break;
                case 3: // insert a random token in a line
                    var position = random.Next(list[at].Length + 1);
                    list[at] = list[at].Insert(position, Tokens[random.Next(Tokens.Length)]);
                    break;
                case 4: // replace a value with a huge or odd number
                    var colon = list[at].IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        list[at] = list[at][..(colon + 1)] + " " + Tokens[random.Next(26, 33)];
                    }

                    break;
                case 5: // deep nesting
                    var depth = random.Next(10, 6000);
                    var open = random.Next(2) == 0 ? "[" : "{a: ";
                    var close = open == "[" ? "]" : "}";
                    list[at] += " " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, random.Next(depth + 1)));
                    break;
                case 6: // delete lines
                    list.RemoveRange(at, Math.Min(random.Next(1, 4), list.Count - at));
                    if (list.Count == 0)
                    {
                        list.Add(string.Empty);
                    }

                    break;
                case 7: // re-indent a line
                    list[at] = new string(' ', random.Next(0, 9)) + list[at].TrimStart();
                    break;
                default: // random bytes of text
                    var noise = new StringBuilder();
                    for (var i = random.Next(1, 40); i > 0; i--)
                    {
                        noise.Append((char)random.Next(1, 0x250));
                    }

                    list.Insert(at, noise.ToString());
                    break;
            }
        }

        return string.Join('\n', list);
    }

    private static string Shorten(string yaml) => yaml.Length <= 4000 ? yaml : yaml[..4000] + "…";
}
