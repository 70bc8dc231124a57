// The golden bodies of the contract suite's XML oracle, written by the real
// .NET serializers (Mono's DataContractSerializer and
// DataContractJsonSerializer) from the AppSpace data contracts in
// Contracts.cs, and the XML schema .NET publishes for them
// (XsdDataContractExporter, what a WCF service serves at ?xsd). Run by
// make dotnet-golden; the output is committed under
// contracttests/testdata/dotnet, so the suite needs no Mono.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using System.Text;
using System.Xml;
using System.Xml.Schema;
using M = Nexus.AppSpace.Service.Contract.Messages;
using T = Nexus.AppSpace.Service.Contract.Messages.Token;

public static class Golden {
  const string Token = "6f1c2a9e-4b7d-4e23-9a51-0c8d7e3f2b64";

  static M.Error Err(string code, string message, string stack) {
    return new M.Error { Code = code, Message = message, StackTrace = stack };
  }

  // Every case a contract answer or request can take on the wire: each
  // Status name, Errors empty, with one and with two items, and every
  // nullable member null.
  static readonly KeyValuePair<string, object>[] Cases = {
    Case("TokenRequest.seed", new T.TokenRequest { Authentication = new M.Authentication { AccountId = "1042", SecurityToken = Token } }),
    Case("TokenRequest.full", new T.TokenRequest { Authentication = new M.Authentication { API = "api-v1", AccountId = "1042", Password = "s3cret&<>", SecurityToken = Token, Username = "build-agent" } }),
    Case("TokenResponse.success", new T.TokenResponse { Errors = new List<M.Error>(), Status = M.Status.Success, SecurityToken = Token }),
    Case("TokenResponse.invalid-token", new T.TokenResponse { Errors = new List<M.Error> { Err("InvalidToken", "The security token is not valid.", null) }, Status = M.Status.Failure }),
    Case("TokenResponse.two-errors", new T.TokenResponse { Errors = new List<M.Error> { Err("InvalidToken", "The security token is not valid.", null), Err("TokenExpired", "The security token has expired. Request a new token.", null) }, Status = M.Status.Failure }),
    Case("TokenResponse.server-error", new T.TokenResponse { DebugMessage = "Object reference not set to an instance of an object.", Errors = new List<M.Error> { Err("InternalError", "An unexpected error occurred while validating the token.", "   at Nexus.AppSpace.Service.TokenService.ValidateToken(TokenRequest request)") }, Status = M.Status.Failure }),
    Case("TokenResponse.nulls", new T.TokenResponse { Errors = new List<M.Error> { Err(null, null, null) } }),
    Case("TokenResponse.all-null", new T.TokenResponse()),
  };

  static KeyValuePair<string, object> Case(string name, object v) { return new KeyValuePair<string, object>(name, v); }

  public static int Main(string[] args) {
    if (args.Length != 1) { Console.Error.WriteLine("usage: golden.exe DIR"); return 2; }
    string dir = args[0];
    Directory.CreateDirectory(dir);
    foreach (var c in Cases) {
      var type = c.Value.GetType();
      // Exactly the bytes a WCF REST service writes for the answer: no
      // XML declaration, no indentation.
      Write(dir, c.Key + ".xml", ms => new DataContractSerializer(type).WriteObject(ms, c.Value));
      Write(dir, c.Key + ".json", ms => new DataContractJsonSerializer(type).WriteObject(ms, c.Value));
    }
    var exporter = new XsdDataContractExporter();
    exporter.Export(typeof(T.TokenRequest));
    exporter.Export(typeof(T.TokenResponse));
    // Only the contracts' own namespaces: the others are .NET's built-ins.
    foreach (XmlSchema s in exporter.Schemas.Schemas().Cast<XmlSchema>().Where(s => s.TargetNamespace != null && s.TargetNamespace.StartsWith("http://schemas.datacontract.org/2004/07/")).OrderBy(s => s.TargetNamespace, StringComparer.Ordinal)) {
      string name = s.TargetNamespace.Substring("http://schemas.datacontract.org/2004/07/".Length) + ".xsd";
      var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
      Write(dir, name, ms => { using (var w = XmlWriter.Create(ms, settings)) s.Write(w); });
    }
    string runtime = "unknown runtime";
    var mono = Type.GetType("Mono.Runtime");
    if (mono != null) runtime = "Mono " + mono.GetMethod("GetDisplayName", BindingFlags.NonPublic | BindingFlags.Static).Invoke(null, null);
    Write(dir, "WRITTEN-BY", ms => { var b = Encoding.UTF8.GetBytes(
      "Written by make dotnet-golden (contracttests/wcfclient/Golden.cs) with\n" + runtime + "\n" +
      "System.Runtime.Serialization " + typeof(DataContractSerializer).Assembly.GetName().Version + "\n"); ms.Write(b, 0, b.Length); });
    return 0;
  }

  static void Write(string dir, string name, Action<Stream> write) {
    using (var ms = new MemoryStream()) {
      write(ms);
      File.WriteAllBytes(Path.Combine(dir, name), ms.ToArray());
    }
    Console.WriteLine("  wrote " + Path.Combine(dir, name));
  }
}
