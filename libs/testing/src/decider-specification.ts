import type { Decider } from '@trellis/event-store';

/**
 * given(events).when(command).then(events) for pure deciders, in the style of Emmett's
 * DeciderSpecification: the state is rebuilt from `given` with evolve, then decide runs.
 */
export function deciderSpec<State, Command, Event>(decider: Decider<State, Command, Event>) {
  return {
    given(events: Event[]) {
      const state = events.reduce(decider.evolve, decider.initialState);
      return {
        when(command: Command) {
          const run = () => decider.decide(state, command);
          return {
            then(expected: Event[]): void {
              expect(run()).toEqual(expected);
            },
            thenThrows(matcher: (err: unknown) => void): void {
              let thrown: unknown;
              try {
                run();
              } catch (err) {
                thrown = err;
              }
              if (thrown === undefined) throw new Error('expected the decider to refuse the command');
              matcher(thrown);
            },
          };
        },
      };
    },
  };
}
