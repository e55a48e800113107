/** A component id as written in config: `type` or `type/name`. Parsed once, compared by string. */
export class ComponentId {
  private constructor(
    readonly type: string,
    readonly name: string,
  ) {}

  private static readonly typeRe = /^[a-zA-Z][a-zA-Z0-9_]*$/;

  /** Throws an Error with a readable message when `s` is not a valid id. */
  static parse(s: string): ComponentId {
    const slash = s.indexOf('/');
    const type = slash < 0 ? s : s.slice(0, slash);
    const name = slash < 0 ? '' : s.slice(slash + 1);
    if (!ComponentId.typeRe.test(type)) {
      throw new Error(`invalid component id "${s}": the type must start with a letter and contain only letters, digits and _`);
    }
    if (slash >= 0 && (name === '' || /\s/.test(name))) {
      throw new Error(`invalid component id "${s}": the name after "/" must be non-empty and contain no whitespace`);
    }
    return new ComponentId(type, name);
  }

  static of(type: string, name = ''): ComponentId {
    return new ComponentId(type, name);
  }

  toString(): string {
    return this.name ? `${this.type}/${this.name}` : this.type;
  }

  equals(other: ComponentId): boolean {
    return this.type === other.type && this.name === other.name;
  }
}

/** The kinds of component, as the Collector names them. */
export type ComponentKind = 'receiver' | 'processor' | 'exporter' | 'extension';

/** How far along a component is, as the Collector labels it. */
export type Stability = 'development' | 'alpha' | 'beta' | 'stable' | 'deprecated';
