import { withDeadline } from './run-service';

describe('withDeadline', () => {
  it('answers what the work answers when it finishes in time', async () => {
    await expect(withDeadline(Promise.resolve('closed'), Date.now() + 1000, 'closing')).resolves.toBe('closed');
  });

  it('gives up on work that hangs once the deadline has passed, naming it', async () => {
    const started = Date.now();
    await expect(withDeadline(new Promise(() => undefined), started + 50, 'closing the application')).rejects.toThrow(
      'closing the application did not finish in time',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
