/** A decider (Chassaing): pure decide/evolve over a stream's state. */
export interface Decider<State, Command, Event> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  /** Returns the events the command causes, or throws a DomainError. */
  decide(command: Command, state: State): Event[];
}

/** State after replaying `events` from the initial state. */
export function foldEvents<State, Event>(decider: Pick<Decider<State, never, Event>, 'initialState' | 'evolve'>, events: readonly Event[]): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState());
}
