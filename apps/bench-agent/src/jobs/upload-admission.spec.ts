import { UploadAdmissionControl } from './upload-admission';

describe('UploadAdmissionControl', () => {
  it('lets K uploads run per controller, queues the rest in order and tells their place', async () => {
    const admission = new UploadAdmissionControl(2);
    const signal = new AbortController().signal;
    const places: Record<string, number[]> = { c: [], d: [] };
    const a = await admission.acquire('1-1.1', signal, () => undefined);
    const b = await admission.acquire('1-1.2', signal, () => undefined);
    const other = await admission.acquire('2-1.1', signal, () => undefined); // another controller is not held up
    let cGranted = false;
    const c = admission
      .acquire('1-1.3', signal, (p) => places.c.push(p))
      .then((release) => ((cGranted = true), release));
    const d = admission.acquire('1-1.4', signal, (p) => places.d.push(p));
    expect(admission.snapshot()).toEqual({ '1': { active: 2, waiting: 2 }, '2': { active: 1, waiting: 0 } });
    a();
    const releaseC = await c;
    expect(cGranted).toBe(true);
    expect(places).toEqual({ c: [1], d: [2, 1] });
    b();
    (await d)();
    releaseC();
    other();
    expect(admission.snapshot()).toEqual({ '1': { active: 0, waiting: 0 }, '2': { active: 0, waiting: 0 } });
  });

  it('drops a waiter whose restore was cancelled', async () => {
    const admission = new UploadAdmissionControl(1);
    const first = await admission.acquire('1-1.1', new AbortController().signal, () => undefined);
    const controller = new AbortController();
    const waiting = admission.acquire('1-1.2', controller.signal, () => undefined);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    first();
    expect(admission.snapshot()['1']).toEqual({ active: 0, waiting: 0 });
  });
});
