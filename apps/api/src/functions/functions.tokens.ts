/** Whether the builder still holds an image (HeldImages): a rollback never goes back to one it no longer has. */
export const HELD_IMAGES = Symbol('HELD_IMAGES');
