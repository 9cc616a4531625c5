export declare const LOCAL_DEFAULT_URL: string;

export declare function testServerUrl(): string;
