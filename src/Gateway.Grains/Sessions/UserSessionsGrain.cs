using System.Collections.Immutable;
using Gateway.Grains.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Grains.Sessions;

/// <summary>The sessions of one user. Expired entries are pruned on every change; an empty index deletes its state.</summary>
internal sealed class UserSessionsGrain(
    [PersistentState("user-sessions", StorageNames.Sessions)] IPersistentState<UserSessionsState> state,
    [FromKeyedServices(SessionClock.Key)] TimeProvider time) : Grain, IUserSessionsGrain
{
    public async Task TrackAsync(string sessionId, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        Prune();
        state.State.Sessions[sessionId] = expiresAt;
        await state.WriteStateAsync();
    }

    public Task<ImmutableArray<string>> ListAsync()
    {
        var now = time.GetUtcNow();
        return Task.FromResult(state.State.Sessions.Where(s => s.Value > now).Select(s => s.Key).Order(StringComparer.Ordinal).ToImmutableArray());
    }

    public async Task ForgetAsync(ImmutableArray<string> sessionIds)
    {
        foreach (var id in sessionIds.IsDefault ? [] : sessionIds)
        {
            state.State.Sessions.Remove(id);
        }

        Prune();
        if (state.State.Sessions.Count == 0)
        {
            if (state.RecordExists)
            {
                await state.ClearStateAsync();
            }
        }
        else
        {
            await state.WriteStateAsync();
        }
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var expired in state.State.Sessions.Where(s => s.Value <= now).Select(s => s.Key).ToList())
        {
            state.State.Sessions.Remove(expired);
        }
    }
}
