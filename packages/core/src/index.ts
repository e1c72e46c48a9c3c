export const hello: string = "core"
