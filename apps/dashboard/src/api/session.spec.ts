import { clearSession, loadSession, saveSession } from './session';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const user = { id: 'u1', username: 'ana', role: 'technician' as const, disabled: false };

describe('session', () => {
  it('survives a reload until it expires', () => {
    const storage = new MemoryStorage();
    saveSession({ token: 'tok', user, expiresAt: '2030-01-01T00:00:00Z' }, storage);
    expect(loadSession(storage, Date.parse('2029-12-31T00:00:00Z'))).toEqual({
      token: 'tok',
      user,
      expiresAt: '2030-01-01T00:00:00Z',
    });
    expect(loadSession(storage, Date.parse('2030-01-02T00:00:00Z'))).toBeNull();
  });

  it('ignores garbage and is gone after logout', () => {
    const storage = new MemoryStorage();
    storage.setItem('bench.session', '{not json');
    expect(loadSession(storage)).toBeNull();
    saveSession({ token: 'tok', user, expiresAt: '2999-01-01T00:00:00Z' }, storage);
    clearSession(storage);
    expect(loadSession(storage)).toBeNull();
  });
});
